"""Mi cuenta: a signed-in user's own contact details and the way to their password change."""
