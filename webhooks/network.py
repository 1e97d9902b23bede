"""Webhook receiver URLs: the kernel's outbound guard (`renderowl.network`) with the webhook rules on top."""

from django.conf import settings

from renderowl.network import url_check

NOT_PUBLIC = (
    "The URL's host does not resolve to a public address; webhooks are only sent to public "
    "(not private, loopback, link-local or reserved) addresses."
)


def check_url(url):
    """Validate a receiver URL (scheme, host, port, resolved addresses); returns it normalized (normalize_url).

    Raises BlockedDestination with the reason; https only where the operator sets WEBHOOKS_REQUIRE_HTTPS.
    """
    return url_check(url, require_https=settings.WEBHOOKS_REQUIRE_HTTPS, refusal=NOT_PUBLIC)
