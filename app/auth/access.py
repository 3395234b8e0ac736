"""Role checks for views: signed-out users to the sign-in page, a wrong role 403. The rules that know courses
(instructors their courses, participants their enrolments) are in app/courses/access.py."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Signed-out users go to the sign-in page; a wrong role gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required("admin")
