"""Lower layers never import the features built on them (COORD/DESIGN: thin layers, one direction)."""

import ast
from pathlib import Path

from app.config import ROOT

# notify sends mail for everybody; these are built on it (they queue mail, or orchestrate the sweep).
ABOVE_NOTIFY = ("app.closeout", "app.certificates", "app.evaluations", "app.sic", "app.reports", "app.admin",
                "app.sweep", "app.cli", "app.privacy.retention", "app.privacy.service", "app.sence.journal",
                "app.auth.throttle")


def _imports(package: str) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / "app" / package).glob("*.py")):
        tree = ast.parse(Path(path).read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "import_module":
                names.add("import_module")
        found[path.name] = names
    return found


def test_notify_imports_none_of_the_features_built_on_it():
    for module, names in _imports("notify").items():
        wrong = sorted(n for n in names if n == "import_module" or n.startswith(ABOVE_NOTIFY))
        assert wrong == [], f"app/notify/{module} imports {wrong}"


def test_the_sweep_command_is_registered_at_the_top(app):
    assert "sweep" in app.cli.commands
    assert app.cli.commands["sweep"].callback.__module__ == "app.sweep"


# Everything that knows what a course is.
COURSE_FEATURES = ("app.courses", "app.sence", "app.evaluations", "app.certificates", "app.closeout", "app.sic",
                   "app.reports", "app.admin")


def test_auth_checks_roles_and_leaves_course_rules_to_courses():
    """Who may see a course is decided in app/courses/access.py; auth's rules and models know no course."""
    for module, names in _imports("auth").items():
        if module == "views.py":  # the sign-out page lists the participant's open SENCE sessions
            continue
        wrong = sorted(n for n in names if n.startswith(COURSE_FEATURES))
        assert wrong == [], f"app/auth/{module} imports {wrong}"
