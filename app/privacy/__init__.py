"""Personal data under Ley 21.719: privacy notice, "Mis datos", requests, suppression, blocking, retention and
the staff access trail."""
