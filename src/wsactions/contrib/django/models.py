"""The tables of wsactions in a Django project: the same columns as the SQL backend's schema
(:mod:`wsactions.backends.sql.schema`), as Django models.

:class:`~wsactions.contrib.django.storage.DjangoStorage` is the one writer of
these rows and converts them to the records of :mod:`wsactions.models`; read
them (admin, reports) but change accounts through wsactions' actions, which
keep the rules (unique email keys, one global group per company, budgets).

* ``seq`` (an autoincrement primary key) is the creation order; the record's
  own id is the column ``id`` (the field ``account_id``, ``address_id``, ...:
  Django reserves the field name ``id`` for primary keys).
* Amounts are exact decimal text; JSON columns hold mappings and lists.
* Opt-in tokens are stored only as hashes, and no ``__str__`` shows a
  password hash, a token hash or a login id.
"""

from __future__ import annotations

from django.db import models

_ID = 64  # opaque ids: 22 characters from secrets.token_urlsafe(16), host ids up to 64
_EMAIL = 320
_CREDENTIAL = 1364  # WebAuthn credential ids: up to 1023 bytes, as base64url


class Account(models.Model):
    """A customer account (:class:`wsactions.models.Account`); for B2B a company member."""

    seq = models.BigAutoField(primary_key=True)
    account_id = models.CharField(max_length=_ID, unique=True, db_column="id")
    email = models.CharField(max_length=_EMAIL)
    email_key = models.CharField(max_length=_EMAIL, unique=True)
    password_hash = models.CharField(max_length=512, null=True, blank=True)
    display_name = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    verified = models.BooleanField(default=False)
    deactivated = models.BooleanField(default=False)
    security_stamp = models.CharField(max_length=_ID, blank=True, default="")
    rights_stamp = models.CharField(max_length=_ID, blank=True, default="")
    created_at = models.FloatField(default=0.0)
    customer_data = models.JSONField(blank=True, default=dict)
    main_address_id = models.CharField(max_length=_ID, null=True, blank=True)
    default_bill_address_id = models.CharField(max_length=_ID, null=True, blank=True)
    default_delivery_address_id = models.CharField(max_length=_ID, null=True, blank=True)
    company_id = models.CharField(max_length=_ID, null=True, blank=True, db_index=True)
    admin = models.BooleanField(default=False)
    privilege_group_id = models.CharField(max_length=_ID, null=True, blank=True)
    default_address_visibility = models.CharField(max_length=16, default="private")
    allowed_subshops = models.JSONField(null=True, blank=True)
    invitation_pending = models.BooleanField(default=False)
    locale = models.CharField(max_length=35, blank=True, default="")
    # the TOTP second factor: the secret only encrypted (never shown in the admin)
    totp_secret = models.TextField(blank=True, default="")
    totp_pending = models.TextField(blank=True, default="")
    totp_step = models.BigIntegerField(default=0)
    recovery_codes = models.JSONField(blank=True, default=list)

    class Meta:
        db_table = "wsactions_account"
        verbose_name = "account"

    def __str__(self) -> str:
        return str(self.email)


class Address(models.Model):
    """An address of an account's address book (:class:`wsactions.models.Address`)."""

    seq = models.BigAutoField(primary_key=True)
    address_id = models.CharField(max_length=_ID, db_column="id")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, to_field="account_id", related_name="addresses"
    )
    type = models.CharField(max_length=32)
    fields = models.JSONField(default=dict)
    visibility = models.CharField(max_length=16, default="private")
    created_at = models.FloatField(default=0.0)

    class Meta:
        db_table = "wsactions_address"
        verbose_name = "address"
        verbose_name_plural = "addresses"
        constraints = (
            models.UniqueConstraint(
                fields=["account", "address_id"], name="uq_wsactions_address_account_id"
            ),
        )

    def __str__(self) -> str:
        return f"address {self.address_id} of {self.account_id}"


class SavedCard(models.Model):
    """A pseudonymised payment card (:class:`wsactions.models.SavedCard`): never a number."""

    seq = models.BigAutoField(primary_key=True)
    card_id = models.CharField(max_length=_ID, db_column="id")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, to_field="account_id", related_name="cards"
    )
    brand = models.CharField(max_length=200)
    last4 = models.CharField(max_length=200)
    expiry = models.CharField(max_length=200)
    holder = models.CharField(max_length=200)
    pseudo_card_id = models.CharField(max_length=200)

    class Meta:
        db_table = "wsactions_card"
        verbose_name = "saved card"
        constraints = (
            models.UniqueConstraint(
                fields=["account", "card_id"], name="uq_wsactions_card_account_id"
            ),
        )

    def __str__(self) -> str:
        return f"{self.brand} …{self.last4} ({self.expiry})"


class PrivilegeGroup(models.Model):
    """A company's privilege group (:class:`wsactions.models.PrivilegeGroup`).

    *spent* is exact decimal text; *privileges* the group's
    :class:`wsactions.models.Privileges` as JSON (amounts as text).
    """

    seq = models.BigAutoField(primary_key=True)
    company_id = models.CharField(max_length=_ID)
    group_id = models.CharField(max_length=_ID, db_column="id")
    name = models.TextField()
    type = models.CharField(max_length=16, default="account")
    privileges = models.JSONField(default=dict)
    budget_since = models.FloatField(default=0.0)
    spent = models.CharField(max_length=64, default="0")

    class Meta:
        db_table = "wsactions_group"
        verbose_name = "privilege group"
        constraints = (
            models.UniqueConstraint(
                fields=["company_id", "group_id"], name="uq_wsactions_group_company_id"
            ),
            # one default ("global") group per company, kept by the database as well
            models.UniqueConstraint(
                fields=["company_id"],
                condition=models.Q(type="global"),
                name="uq_wsactions_group_global",
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.company_id})"


class OptinToken(models.Model):
    """An opt-in token (:class:`wsactions.models.TokenRecord`): only the token's hash.

    No foreign key: hosts may issue tokens for account ids of their own.
    """

    token_hash = models.CharField(max_length=64, primary_key=True)
    purpose = models.CharField(max_length=32)
    account_id = models.CharField(max_length=_ID)
    created_at = models.FloatField()
    expires_at = models.FloatField(db_index=True)
    email = models.CharField(max_length=_EMAIL, null=True, blank=True)

    class Meta:
        db_table = "wsactions_token"
        verbose_name = "opt-in token"
        constraints = (
            models.UniqueConstraint(
                fields=["account_id", "purpose"], name="uq_wsactions_token_account_purpose"
            ),
        )

    def __str__(self) -> str:
        return f"{self.purpose} token of {self.account_id}"


class Login(models.Model):
    """A server-side login record (:class:`wsactions.models.LoginRecord`); its id is the
    SHA-256 of the secret the session holds."""

    seq = models.BigAutoField(primary_key=True)
    login_id = models.CharField(max_length=64, unique=True, db_column="id")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, to_field="account_id", related_name="logins"
    )
    created_at = models.FloatField(db_index=True)
    last_seen = models.FloatField(db_index=True)
    client_address = models.CharField(max_length=64, blank=True, default="")
    proven_at = models.FloatField(default=0.0)
    proven_by = models.CharField(max_length=16, default="password")

    class Meta:
        db_table = "wsactions_login"
        verbose_name = "login"

    def __str__(self) -> str:
        return f"login of {self.account_id} from {self.client_address or 'unknown'}"


class Passkey(models.Model):
    """An account's passkey (:class:`wsactions.models.Passkey`), a WebAuthn credential: its
    public key and the authenticator's counter and flags, never a secret."""

    seq = models.BigAutoField(primary_key=True)
    credential_id = models.CharField(max_length=_CREDENTIAL, unique=True, db_column="id")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, to_field="account_id", related_name="passkeys"
    )
    public_key = models.TextField()
    # WebAuthn's counter is an unsigned 32-bit number: more than an IntegerField holds
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(blank=True, default=list)
    backup_eligible = models.BooleanField(default=False)
    backup_state = models.BooleanField(default=False)
    aaguid = models.CharField(max_length=36, blank=True, default="")
    name = models.TextField(blank=True, default="")
    created_at = models.FloatField(default=0.0)
    last_used = models.FloatField(default=0.0)

    class Meta:
        db_table = "wsactions_passkey"
        verbose_name = "passkey"

    def __str__(self) -> str:
        return f"passkey {self.name or 'without a name'} of {self.account_id}"


class Counter(models.Model):
    """A throttling counter: at most *limit* event times of one (hashed) key."""

    key = models.CharField(max_length=64, primary_key=True)
    events = models.JSONField(default=list)
    expires_at = models.FloatField(db_index=True)
    #: Whether the last hit was refused (what the one-statement hit answers).
    refused = models.BooleanField(default=False)

    class Meta:
        db_table = "wsactions_counter"
        verbose_name = "throttling counter"

    def __str__(self) -> str:
        return f"counter {self.key}"
