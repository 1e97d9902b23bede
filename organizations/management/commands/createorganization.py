from organizations.services import organization_create
from renderowl.commands import DomainCommand
from renderowl.tenancy import dangerously_bypass_tenancy


class Command(DomainCommand):
    help = "Create an organization. Prints its id on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", help="URL-safe identifier; derived from the name when absent.")

    def handle(self, *args, name, slug, **options):
        with dangerously_bypass_tenancy(reason="createorganization command"):
            organization = organization_create(name=name, slug=slug)
        self.stdout.write(f"Created organization {organization.name!r} with slug {organization.slug!r}.")
        self.stdout.write(str(organization.id))
