"""Text PostgreSQL can store."""


def storable_text(text):
    """Whether PostgreSQL can store `text` (text or jsonb): no NUL, no unpaired surrogate."""
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def unstorable_path(document, path="$"):
    """The JSON path of the first key or string in `document` PostgreSQL cannot store, or None (iterative)."""
    stack = [(document, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if not storable_text(node):
                return where
        elif isinstance(node, dict):
            for key, value in node.items():
                if not storable_text(key):
                    return where
                stack.append((value, f"{where}.{key}"))
        elif isinstance(node, list):
            stack.extend((value, f"{where}[{index}]") for index, value in enumerate(node))
    return None
