"""The phone channels write numbers the way the contact digest reads them, so a number the
resident typed as 0812... is the same WhatsApp id and SMS recipient as +62 812...."""

import pytest

from followup_service.notifications.channels import SmsChannel, WhatsAppChannel
from shared.contact_cipher import normalize_address


@pytest.mark.parametrize(
    "typed", ["0812-4477-9931", "+62 812 4477 9931", "62 812.4477.9931", " 081244779931 "]
)
def test_both_phone_channels_normalise_a_number_as_the_contact_digest_does(typed):
    assert WhatsAppChannel.digits(typed) == SmsChannel.digits(typed) == "6281244779931"
    assert WhatsAppChannel.digits(typed) == normalize_address(typed)
