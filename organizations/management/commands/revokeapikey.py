from django.core.management.base import BaseCommand, CommandError

from organizations.services import OrganizationError, api_key_revoke
from renderowl.tenancy import dangerously_bypass_tenancy


class Command(BaseCommand):
    help = (
        "Revoke an API key, given whole (rwl_live_…, e.g. as found in a leak) or by its prefix "
        "(rwl_live_XXXXXXXX). Revoking twice is harmless."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_or_prefix", metavar="KEY_OR_PREFIX", help="The whole key, or its prefix.")

    def handle(self, *args, key_or_prefix, **options):
        with dangerously_bypass_tenancy(reason="revokeapikey command"):
            try:
                api_key = api_key_revoke(key_or_prefix=key_or_prefix)
            except OrganizationError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"Revoked {api_key.prefix} at {api_key.revoked_at.isoformat()}.")
