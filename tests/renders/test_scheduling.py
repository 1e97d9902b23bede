"""Which queued render starts next: high before normal before low, first in first out within a priority,
and a fair share between organizations (RENDER_MAX_CONCURRENT_PER_ORGANIZATION, fewest rendering first)."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from renderowl.celery import app
from renderowl.tenancy import tenant_context
from renders.models import RenderJob
from renders.scheduling import render_claim_next, renders_wake_waiting, wake_ups_waiting
from renders.tasks import reap_lost_renders_task, render_next_task, wake_renderers_task
from tests.conftest import Tenant
from tests.projects.test_cascade import Side, wait_for_lock_wait
from tests.renders.conftest import upload_template
from tests.renders.test_api import SMALL, small_template


@pytest.fixture(autouse=True)
def no_wake_ups_left():
    """The submissions' wake-ups go to the broker, where no worker of this test database takes them."""
    purge()
    yield
    purge()


def purge():
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge("renders")


class Customer:
    """An organization with a project and a ready template, submitting renders through the API."""

    def __init__(self, name):
        self.tenant = Tenant(name)
        self.project = self.tenant.create_project(name=name)
        self.template = upload_template(self.tenant, self.project["id"], small_template())
        assert self.template["status"] == "ready", self.template

    def submit(self, count=1, **body):
        ids = []
        for _ in range(count):
            response = self.tenant.client.post(
                f"/v1/projects/{self.project['id']}/renders", {"templateId": self.template["id"], "output": SMALL, **body},
            )
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
        return ids

    def job(self, job_id):
        return self.tenant.client.get(f"/v1/renders/{job_id}").json()


def claimed(count):
    """The ids of the next `count` jobs the scheduler starts (None where none may start)."""
    jobs = [render_claim_next() for _ in range(count)]
    return [job and job.id for job in jobs]


def finish(customer, job_id, *, started_at=None):
    """The job ended (as a renderer would leave it), optionally having started at `started_at`."""
    with tenant_context(customer.tenant.id):
        RenderJob.objects.filter(pk=job_id).update(
            status=RenderJob.Status.COMPLETED, completed_at=timezone.now(), lease_expires_at=None,
            **({"started_at": started_at} if started_at else {}),
        )


# Priority


def test_a_new_high_job_starts_before_thirty_low_ones_waiting(db):
    acme = Customer("Acme")
    low = acme.submit(30, priority="low")
    high = acme.submit(priority="high")

    assert render_next_task() == "completed"  # the renderer's entry point: claims the next job and renders it

    assert acme.job(high[0])["status"] == "completed"
    assert {acme.job(job_id)["status"] for job_id in low} == {"queued"}


def test_high_drains_before_normal_before_low_and_each_first_in_first_out(db, settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 10
    acme = Customer("Acme")
    low = acme.submit(2, priority="low")
    normal = acme.submit(2)
    high = acme.submit(2, priority="high")

    assert claimed(7) == [*high, *normal, *low, None]


# Fair share between organizations


def test_a_second_organizations_job_starts_at_the_next_free_slot_behind_a_backlog_of_a_hundred(db, settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 2
    acme, beta = Customer("Acme"), Customer("Beta")
    backlog = acme.submit(100)
    assert claimed(2) == backlog[:2]  # Acme takes its share of two
    first = beta.submit()

    assert claimed(1) == first  # ahead of 98 older jobs: Acme is at its share
    assert claimed(1) == [None]  # both organizations' waiting jobs are held back or none is left
    finish(acme, backlog[0])
    assert claimed(1) == [backlog[2]]


def test_the_organization_with_fewer_jobs_rendering_goes_first(db, settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 3
    acme, beta = Customer("Acme"), Customer("Beta")
    backlog = acme.submit(5)
    assert claimed(1) == backlog[:1]
    later = beta.submit(2)  # queued after all of Acme's

    assert claimed(3) == [later[0], backlog[1], later[1]]  # 1:0 → Beta, 1:1 → the tie, 2:1 → Beta


def test_between_equals_the_organization_whose_last_job_started_longest_ago_goes_first(db, settings):
    acme, beta, gamma = Customer("Acme"), Customer("Beta"), Customer("Gamma")
    for customer, minutes_ago in ((acme, 5), (beta, 60)):
        done = customer.submit()
        assert claimed(1) == done
        finish(customer, done[0], started_at=timezone.now() - timedelta(minutes=minutes_ago))
    acme_job, beta_job, gamma_job = acme.submit(), beta.submit(), gamma.submit()

    # Nobody renders: Gamma never started a job, Beta's last started an hour ago, Acme's five minutes ago.
    assert claimed(3) == [*gamma_job, *beta_job, *acme_job]


def test_priority_comes_before_fairness(db, settings):
    acme, beta = Customer("Acme"), Customer("Beta")
    assert claimed(1) == [None]
    acme_running = acme.submit()
    assert claimed(1) == acme_running
    beta_low = beta.submit(priority="low")
    acme_high = acme.submit(priority="high")

    assert claimed(2) == [*acme_high, *beta_low]


def test_a_cancelled_job_is_never_started(db):
    acme = Customer("Acme")
    first, second = acme.submit(2)
    assert acme.tenant.client.delete(f"/v1/renders/{first}").status_code == 200

    assert claimed(2) == [second, None]


# Renderers racing for the last slot of an organization's share


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_two_renderers_racing_never_start_more_than_the_share(settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 1
    acme = Customer("Acme")
    first, second = acme.submit(2)
    purge()
    claiming, release = threading.Event(), threading.Event()

    def claim_and_hold():
        with transaction.atomic():  # the claim is made; its commit waits for the test
            job = render_claim_next()
            claiming.set()
            assert release.wait(20)
        return job.id

    holder = Side(claim_and_hold)
    holder.start()
    assert claiming.wait(20)
    racer = Side(lambda: render_claim_next())
    racer.start()
    wait_for_lock_wait()  # the second renderer waits for the first one's pick to commit
    release.set()
    holder.join(20), racer.join(20)

    assert (holder.error, racer.error) == (None, None)
    assert holder.result == first
    assert racer.result is None  # Acme already renders its one job
    assert acme.job(second)["status"] == "queued"


# Wake-ups: a held-back job is woken when its organization's render ends; a lost one is made up by beat


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_a_job_held_back_by_the_share_starts_when_the_organizations_render_ends(settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 1
    settings.RENDER_MAX_ATTEMPTS = 1
    acme = Customer("Acme")
    first, second = acme.submit(2)
    purge()
    assert claimed(1) == [first]
    assert render_next_task() is None  # the second job's wake-up: Acme is at its share, so it is dropped
    with tenant_context(acme.tenant.id):  # the first job's renderer died and its lease lapsed
        RenderJob.objects.filter(pk=first).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    app.conf.task_always_eager = True  # the wake-up sent when the first job ends runs here, at once
    try:
        assert reap_lost_renders_task.apply().get() == 1
    finally:
        app.conf.task_always_eager = False

    assert acme.job(first)["error"]["code"] == "worker_lost"
    assert acme.job(second)["status"] == "completed"


@pytest.mark.django_db(databases=["default", "owner"], transaction=True)
def test_beat_makes_up_for_wake_ups_the_broker_lost(settings):
    settings.RENDER_MAX_CONCURRENT_PER_ORGANIZATION = 2
    acme, beta = Customer("Acme"), Customer("Beta")
    acme.submit(3)
    beta.submit(1)
    purge()  # the broker lost every wake-up

    assert wake_renderers_task.apply().get() == 3  # Acme may start two, Beta one
    assert wake_ups_waiting() == 3
    assert renders_wake_waiting() == 0  # enough are waiting in the broker
    assert render_next_task() == "completed"
