"""Programs, the people who belong to them, and where they earn."""

import unicodedata
import zoneinfo

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from simple_history.models import HistoricalRecords

APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´"), None)


def normalise_search_text(value):
    """Lower-case, accent-free words, so 'Zoë' is found by 'zoe' and "O'Brien" by 'obrien' on any database.

    Apostrophes vanish (O'Brien -> obrien); other punctuation such as hyphens
    separates words (Lefèvre-Martin -> lefevre martin).
    """
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(APOSTROPHES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def phone_digits(field="phone"):
    """SQL: the digits of a phone number ("+33 6 12-34" -> "3361234"), the text the phone search index holds."""
    return models.Func(
        models.F(field),
        models.Value("[^0-9]+"),
        models.Value(""),
        models.Value("g"),
        function="REGEXP_REPLACE",
        output_field=models.CharField(),
    )


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/Paris).")


class Program(models.Model):
    history = HistoricalRecords()  # admins' edits, with who and when

    class Kind(models.TextChoices):
        AIRLINE = "airline", "Airline"
        HOTEL = "hotel", "Hotel"
        RETAIL = "retail", "Retail"

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    currency_name = models.CharField(max_length=30, help_text="What members earn, e.g. Miles or Points.")
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Decides the local date a transaction is valued on.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, moment):
        """The program-local calendar date of an aware datetime."""
        return moment.astimezone(self.tz).date()


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CLOSED = "closed", "Closed"

    member_number = models.CharField(max_length=20, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=30, blank=True)
    enrolled_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
        help_text="The portal login of this member, if any.",
    )
    # Accent-free, lower-case "first last" kept in step by save(): name search
    # then needs no unaccent extension, and the same text is searched in Python and SQL.
    search_name = models.CharField(max_length=201, editable=False, db_index=True)

    class Meta:
        ordering = ["last_name", "first_name", "member_number"]
        # The member search's criteria, each answered from an index however large the member base:
        # words anywhere in the name and phone digits by trigrams (LIKE '%…%'); numbers and e-mails by
        # a case-insensitive prefix (pattern ops, so LIKE 'M0001%' uses them under any collation). An
        # e-mail is not searched by trigrams: every address shares "com", "exa"…, so a whole address
        # read dozens of long trigram lists.
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="member_name_trgm"),
            models.Index(OpClass(Upper("member_number"), name="text_pattern_ops"), name="member_number_prefix"),
            models.Index(OpClass(Upper("email"), name="text_pattern_ops"), name="member_email_prefix"),
            GinIndex(OpClass(phone_digits(), name="gin_trgm_ops"), name="member_phone_trgm"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.member_number})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        self.search_name = normalise_search_text(f"{self.first_name} {self.last_name}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("member-profile", args=[self.member_number])


class Membership(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="memberships")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="memberships")
    membership_number = models.CharField(max_length=30, unique=True)
    membership_type = models.CharField(max_length=30, default="Individual")
    card_level = models.CharField(max_length=30, blank=True)
    joined_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program__name", "membership_number"]
        indexes = [
            models.Index(OpClass(Upper("membership_number"), name="text_pattern_ops"), name="membership_number_prefix"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "program"], name="one_membership_per_program"),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("joined_on")),
                name="membership_expires_after_joining",
                violation_error_message="The membership cannot expire before the member joined.",
            ),
        ]

    def __str__(self):
        return f"{self.membership_number} · {self.program}"


class Location(models.Model):
    class Kind(models.TextChoices):
        STORE = "store", "Store"
        HOTEL = "hotel", "Hotel property"
        AIRPORT = "airport", "Airport"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        ordering = ["program", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="location_code_unique_per_program")]

    def __str__(self):
        return f"{self.code} · {self.name}"
