"""Run the same work in several threads released at once, each in its own application context (as several
servers would), and report what any of them raised."""

import threading

from app.extensions import db


def run_at_once(app, work, threads: int = 2) -> list:
    """Call `work()` in `threads` threads started behind one barrier; return what each returned, in no order."""
    start = threading.Barrier(threads)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                start.wait()
                results.append(work())
                db.session.remove()
        except Exception as err:  # reported below
            errors.append(err)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return results
