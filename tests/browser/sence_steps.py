"""The participant's steps on SENCE's side, in ONE place: every browser test goes through this helper.

With manual v1.1.6 SENCE sends the popup (or the main window) on to ClaveÚnica, another origin, where
the participant types RUN and ClaveÚnica; ClaveÚnica sends it back to SENCE, which POSTs to Pizarra.
The simulator runs strict (tests/sence/sence_registry.py), so the OTEC's token, the course codes and the
roster are checked as SENCE would, and 208/211/212/306–310 really occur.
"""

import re

CLAVEUNICA = "1234"  # the simulator's ClaveÚnica for everybody


def complete_sence_round(window, claveunica_url: str, run: str, password: str = CLAVEUNICA) -> None:
    """Wait for ClaveÚnica's page in ``window`` (popup or main window), type RUN and ClaveÚnica, submit.

    Nothing is pre-filled there: ClaveÚnica does not know whom SENCE expects.
    """
    window.wait_for_url(re.compile(re.escape(claveunica_url) + r"/openid/authorize\?"))
    assert window.get_by_label("RUN").input_value() == ""
    window.get_by_label("RUN").fill(run)
    window.get_by_label("ClaveÚnica", exact=True).fill(password)
    window.get_by_role("button", name="Ingresar").click()
