"""Opaque, prefixed resource ids: `prj_3kTz…`. The prefix names the type; the rest is random."""

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 24


def random_token(length):
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_id(prefix):
    return f"{prefix}_{random_token(RANDOM_LENGTH)}"


class IdFactory:
    """A picklable default for a model's id field (migrations serialize it by reference)."""

    def __init__(self, prefix):
        self.prefix = prefix

    def __call__(self):
        return new_id(self.prefix)

    def deconstruct(self):
        return ("renderowl.ids.IdFactory", (self.prefix,), {})
