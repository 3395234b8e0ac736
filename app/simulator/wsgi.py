"""``flask --app app.simulator.wsgi run --port 5001`` serves the RCE simulator."""

from app.simulator import create_simulator_app

app = create_simulator_app()
