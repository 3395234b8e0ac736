"""What a participant does on the SENCE simulator's pages, in one place.

The simulator is being rewritten to manual v1.1.6 (ClaveÚnica on another origin): only these helpers change.
"""

import re


def simulator_round(popup, simulator_url: str, password: str = "1234") -> None:
    """Authenticate on the simulator and let it answer with a success."""
    popup.wait_for_url(re.compile(re.escape(simulator_url) + r"/Registro/"))
    popup.get_by_label("Clave").fill(password)
    popup.get_by_role("button", name="Ingresar").click()


def simulator_error(popup, simulator_url: str, code: str) -> None:
    """Let the simulator answer with the error `code`."""
    popup.wait_for_url(re.compile(re.escape(simulator_url)))
    popup.get_by_label("Código de error").select_option(code)
    popup.get_by_role("button", name="Responder con error").click()
