import json
import sys

from django.core.management.base import CommandError
from django.db import transaction

from automations.firing import automation_trigger
from automations.models import Automation
from renderowl.commands import DomainCommand
from renderowl.tenancy import OWNER_DB_ALIAS, dangerously_bypass_tenancy


class Command(DomainCommand):
    help = (
        "Fire an automation by hand (a manual run, queued on the automations queue) with a JSON payload. "
        "The run id is printed on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("automation_id", metavar="AUT_ID", help="The automation's id (aut_…).")
        parser.add_argument("--payload", metavar="FILE", help="A file holding the JSON payload ('-' for stdin); {} if absent.")

    def handle(self, *args, automation_id, payload=None, **options):
        body = self._payload(payload)
        with dangerously_bypass_tenancy(reason=f"runautomation {automation_id}"):
            with transaction.atomic(using=OWNER_DB_ALIAS):
                automation = Automation.objects.select_related("organization").filter(pk=automation_id).first()
                if automation is None:
                    raise CommandError(f"No automation {automation_id!r}: pass an id such as aut_… (the admin lists them).")
                run = automation_trigger(automation=automation, payload=body)
        self.stdout.write(f"Queued run {run.id} of automation {automation.id} ({automation.name}).")
        self.stdout.write(run.id)

    def _payload(self, path):
        if path is None:
            return {}
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        except OSError as exc:
            raise CommandError(f"Cannot read the payload file {path!r}: {exc.strerror}.") from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CommandError(f"The payload in {path!r} is not JSON ({exc}); pass a file holding a JSON document.") from None
