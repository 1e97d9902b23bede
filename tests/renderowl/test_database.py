import io

import pytest
from django.conf import settings
from django.core.management import call_command

from renderowl.database import database_provision


def test_provisiondatabase_is_idempotent(db):
    out = io.StringIO()
    call_command("provisiondatabase", stdout=out)
    assert out.getvalue().strip() == "database and application role already in place"


def test_provisioning_refuses_an_application_role_that_is_the_owner():
    owner = settings.DATABASES["owner"]
    with pytest.raises(ValueError, match="must not be the owner role"):
        database_provision(owner=owner, app={**settings.DATABASES["default"], "USER": owner["USER"]})

