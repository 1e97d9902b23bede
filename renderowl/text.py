"""Text PostgreSQL can store, and how deep a JSON document nests."""


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


def json_depth(document):
    """How deeply objects and arrays nest, counted without recursion (the point is not to overflow the stack)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
