from django.db import migrations

from renderowl.database import EnableRowLevelSecurity

# Authentication must find a key before the organization is known, so the application role gets
# exactly one way in: this function, owned by the owner role (which row-level security does not
# bind), returning the one active key with the given SHA-256. A fixed search_path keeps a caller's
# objects out of its body.
CREATE_LOOKUP = """
CREATE FUNCTION public.api_key_lookup(digest text) RETURNS SETOF public.api_keys
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM public.api_keys WHERE key_hash = digest AND revoked_at IS NULL $$
"""


class Migration(migrations.Migration):

    dependencies = [
        ("organizations", "0001_initial"),
    ]

    operations = [
        EnableRowLevelSecurity("api_keys"),
        migrations.RunSQL(
            sql=[CREATE_LOOKUP, "REVOKE ALL ON FUNCTION public.api_key_lookup(text) FROM PUBLIC"],
            reverse_sql=["DROP FUNCTION IF EXISTS public.api_key_lookup(text)"],
        ),
    ]
