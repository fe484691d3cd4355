"""The bidding story of `test_submission` again with every file in an S3 bucket (SeaweedFS started
by the suite): tender documents published and downloaded, bids uploaded in chunks, resumed,
checked, promoted and receipted, the deadline — the application wired by `open_store(settings)`.
"""

from __future__ import annotations

import uuid

import pytest

from tests.bidding.test_submission import (
    test_publish_download_submit_replace_withdraw_and_the_deadline as test_the_bidding_story_on_s3,
)
from tests.seaweedfs import SeaweedS3
from trading.kernel.settings import Settings
from trading.kernel.storage import Store, open_store
from trading.kernel.storage_s3 import S3Store

__all__ = ["test_the_bidding_story_on_s3"]

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
def settings(settings: Settings, seaweedfs_s3: SeaweedS3) -> Settings:
    storage = seaweedfs_s3.settings()
    storage.prefix = f"story-{uuid.uuid4().hex}"
    settings.storage = storage
    return settings


@pytest.fixture
def store(settings: Settings) -> Store:
    store = open_store(settings)
    assert isinstance(store, S3Store)
    return store
