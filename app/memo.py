"""The per-worker memos' one shape: a dict that forgets everything once it is full."""


class BoundedMemo(dict):
    """Values any worker can compute again on its own (nothing here must agree between processes), bounded so
    that a stream of distinct keys cannot grow a worker without end. Reads are plain dict reads."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def keep(self, key, value):
        """Store `value` under `key`, first forgetting everything if the memo is full; returns `value`."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
