"""``flask --app app.simulator.wsgi run --port 5001`` serves the RCE simulator;
``flask --app app.simulator.wsgi:claveunica run --port 5002`` its ClaveÚnica look-alike."""

from app.simulator import create_claveunica_app, create_simulator_app

app = create_simulator_app()
claveunica = create_claveunica_app()
