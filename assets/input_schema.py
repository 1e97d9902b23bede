"""The JSON Schema (2020-12) validator for a template's inputProps, with every customer regex run by RE2.

A template's `inputSchema` is customer code: `pattern`, `patternProperties` and `format: regex` carry
regexes that Python's backtracking `re` can take exponential time over (`^(a+)+$` against 28 `a`s and a
`!` takes seconds, and each more character doubles it). RE2 runs in time linear in the text, and refuses
outright what it cannot run that way (backreferences, lookaround), so every regex keyword here goes
through it. `uniqueItems` is likewise checked in linear time (jsonschema compares every pair of objects).
RE2's syntax is close to ECMA-262's, which JSON Schema names: `\\d`, `\\w` and `\\s` are ASCII,
and `$` matches only at the very end.

`props_validator(input_schema)` is the one factory: template processing judges `defaultProps` with it, and a
render judges its inputProps with it, so both agree. Building one is cheap (compiled patterns are cached
process-wide); `FORMAT_CHECKER` is the format checker it asserts formats with, `regex` checked by RE2.
"""

import functools

import attrs
import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

# RE2 has its own cap on a compiled program's memory (8 MiB), so a huge pattern fails to compile instead
# of growing; the cache keeps the patterns of the templates in use.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the customer's error, reported to them, not ours to log


class PatternError(ValueError):
    """A regex RE2 cannot run; `reason` says why, in RE2's words."""

    def __init__(self, pattern, reason):
        super().__init__(f"{pattern!r} is not a regex RE2 can run: {reason}")
        self.pattern = pattern
        self.reason = reason


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str):
    """`pattern` compiled by RE2, or PatternError (backreferences, lookaround, repeats over 1000, ...)."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(pattern, reason) from None
    except UnicodeEncodeError:
        raise PatternError(pattern, "it contains an unpaired surrogate") from None


def pattern_matches(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text` (JSON Schema's unanchored search), in linear time."""
    try:
        return compile_pattern(pattern).search(text) is not None
    except UnicodeEncodeError:  # an unpaired surrogate: no character of a regex can match it
        return False


def _passes(errors):
    return next(iter(errors), None) is None


def _is_regex(instance):
    if isinstance(instance, str):
        compile_pattern(instance)
    return True


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
FORMAT_CHECKER.checks("regex", raises=PatternError)(_is_regex)


def _unrunnable(exc):
    return ValidationError(f"{exc}; the template must be fixed before this can be checked")


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = pattern_matches(pattern, instance)
    except PatternError as exc:
        yield _unrunnable(exc)
        return
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            yield _unrunnable(exc)
            continue
        for key, value in instance.items():
            if pattern_matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _matches_a_pattern(key, schema):
    """Whether `key` is matched by one of `schema`'s patternProperties (one RE2 cannot run matches nothing)."""
    for pattern in schema.get("patternProperties", {}):
        try:
            if pattern_matches(pattern, key):
                return True
        except PatternError:
            continue
    return False


def _additional_properties(validator, additional, instance, schema):
    # jsonschema's own keyword, with the patternProperties match made by RE2.
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    extras = sorted((key for key in instance if key not in properties and not _matches_a_pattern(key, schema)), key=str)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in extras)
        if "patternProperties" in schema:
            patterns = ", ".join(repr(pattern) for pattern in sorted(schema["patternProperties"]))
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(f"{listed} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


def _evaluated_keys(validator, instance, schema):
    """The keys of `instance` that `schema` evaluates (jsonschema's own walk, with RE2 for patternProperties)."""
    if validator.is_type(schema, "boolean"):
        return set()
    keys = set()
    for keyword in ("$ref", "$dynamicRef"):
        reference = schema.get(keyword)
        if reference is not None:
            resolved = validator._resolver.lookup(reference)
            evolved = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            keys |= _evaluated_keys(evolved, instance, resolved.contents)
    properties = schema.get("properties")
    if validator.is_type(properties, "object"):
        keys |= properties.keys() & instance.keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        subschema = schema.get(keyword)
        if subschema is not None:
            keys |= {key for key, value in instance.items() if _passes(validator.descend(value, subschema))}
    if "patternProperties" in schema:
        keys |= {key for key in instance if _matches_a_pattern(key, schema)}
    for key, subschema in schema.get("dependentSchemas", {}).items():
        if key in instance:
            keys |= _evaluated_keys(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _passes(validator.descend(instance, subschema)):
                keys |= _evaluated_keys(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            keys |= _evaluated_keys(validator, instance, schema["if"])
            if "then" in schema:
                keys |= _evaluated_keys(validator, instance, schema["then"])
        elif "else" in schema:
            keys |= _evaluated_keys(validator, instance, schema["else"])
    return keys


def _unevaluated_properties(validator, unevaluated, instance, schema):
    # jsonschema's own keyword, with the evaluated keys found by RE2.
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    invalid = [
        key
        for key in instance
        if key not in evaluated and not _passes(validator.descend(instance[key], unevaluated, path=key, schema_path=key))
    ]
    if invalid:
        verb = "was" if len(invalid) == 1 else "were"
        if unevaluated is False:
            listed = ", ".join(repr(key) for key in sorted(invalid, key=str))
            yield ValidationError(f"Unevaluated properties are not allowed ({listed} {verb} unexpected)")
        else:
            listed = ", ".join(repr(key) for key in invalid)
            yield ValidationError(
                f"Unevaluated properties are not valid under the given schema ({listed} {verb} unevaluated and invalid)"
            )


def _comparable(value):
    """A hashable stand-in for a JSON value, equal where JSON Schema says values are equal (1 == 1.0, true != 1)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, dict):
        return ("object", frozenset((key, _comparable(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_comparable(item) for item in value))
    return ("number" if isinstance(value, (int, float)) else "string", value)


def _unique_items(validator, unique, instance, schema):
    # jsonschema compares every pair of unsortable items (quadratic: minutes for 10,000 objects); a set is linear.
    if not unique or not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        key = _comparable(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


Re2Draft202012Validator = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
        "uniqueItems": _unique_items,
    },
    format_checker=FORMAT_CHECKER,
)


def _evolve_keeping_re2(self, **changes):
    # jsonschema's evolve picks the class for a subschema's `$schema` (Python's `re` again); a subschema
    # of a customer schema is always judged by this class, whatever `$schema` it names.
    return attrs.evolve(self, **changes)


Re2Draft202012Validator.evolve = _evolve_keeping_re2


def props_validator(input_schema: dict) -> Draft202012Validator:
    """The validator of props against a template's `inputSchema`: Draft 2020-12, formats asserted, regexes by RE2.

    Use it as any jsonschema validator: `props_validator(schema).iter_errors(props)`, `.is_valid(props)`,
    and `jsonschema.exceptions.best_match(...)` for the error to report.

    `input_schema` should be one that template processing accepted (every pattern compiles under RE2); a
    pattern RE2 cannot run is reported as a validation error, never run by a backtracking engine.
    """
    return Re2Draft202012Validator(input_schema, format_checker=FORMAT_CHECKER)
