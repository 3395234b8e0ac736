"""What the strict simulator knows about the test data (tests/sence/builders.py): the test suite's SENCE records.

The SENCE tests run the simulator with this registry, so the OTEC's token, the course codes and the
rosters are checked as SENCE would, and 208, 211, 212, 301 and 306–310 really occur.
"""

from tests.sence.builders import COD_SENCE, CODIGO_CURSO, OTEC_RUT, TOKEN

OTHER_OTEC_RUT = "11111111-1"
OTHER_OTECS_TOKEN = "0B7A2C1E-7D3F-4E55-9A10-2B3C4D5E6F70"  # SENCE has it under another OTEC: 211
REVOKED_TOKEN = "5C1D2E3F-4A5B-4C6D-8E7F-90A1B2C3D4E5"  # SENCE has it as revoked: 212

NOT_ON_ROSTER = "FT-2025-0000208"  # nobody on its roster: 208 for anyone
WRONG_LINE = "FT-2025-0000301"  # a line 1 course at SENCE: 301 when sent as line 3
WRONG_COD_SENCE = "FT-2025-0000306"  # known under another CodSence: 306
NOT_ELEARNING = "FT-2025-0000307"
OTHER_OTECS_COURSE = "FT-2025-0000308"
NOT_TODAY = "FT-2025-0000309"  # its execution dates are in the past
FINISHED = "FT-2025-0000310"

_OURS = {"cod_sence": COD_SENCE, "linea": 3, "rut_otec": OTEC_RUT}

SIMULATOR_REGISTRY = {
    "otecs": {
        OTEC_RUT: {"tokens": {TOKEN: {"expires": "2099-01-01"}, REVOKED_TOKEN: {"revoked": True}}},
        OTHER_OTEC_RUT: {"tokens": {OTHER_OTECS_TOKEN: {}}},
    },
    "courses": {
        CODIGO_CURSO: {**_OURS, "elearning": True, "start": "2020-01-01", "end": "2099-12-31", "status": "vigente"},
        NOT_ON_ROSTER: {**_OURS, "runs": []},
        WRONG_LINE: {**_OURS, "cod_sence": "", "linea": 1},
        WRONG_COD_SENCE: {**_OURS, "cod_sence": "9999999999"},
        NOT_ELEARNING: {**_OURS, "elearning": False},
        OTHER_OTECS_COURSE: {**_OURS, "rut_otec": OTHER_OTEC_RUT},
        NOT_TODAY: {**_OURS, "start": "2020-01-01", "end": "2020-02-01"},
        FINISHED: {**_OURS, "status": "terminado"},
    },
}
