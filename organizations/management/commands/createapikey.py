from django.core.management.base import BaseCommand, CommandError

from organizations.models import ApiKey
from organizations.services import OrganizationError, api_key_create, organization_get
from renderowl.tenancy import dangerously_bypass_tenancy


class Command(BaseCommand):
    help = "Create an API key for an organization (id or slug). Prints the raw key, once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="Organization id or slug.")
        parser.add_argument("--name", default="", help="A label to recognise the key by.")
        parser.add_argument("--test", action="store_true", help="Create an rwl_test_ key instead of rwl_live_.")

    def handle(self, *args, organization, name, test, **options):
        mode = ApiKey.Mode.TEST if test else ApiKey.Mode.LIVE
        with dangerously_bypass_tenancy(reason="createapikey command"):
            try:
                issued = api_key_create(organization=organization_get(id_or_slug=organization), name=name, mode=mode)
            except OrganizationError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {mode} API key {issued.api_key.prefix}… — it is shown only this once:")
        self.stdout.write(issued.raw_key)
