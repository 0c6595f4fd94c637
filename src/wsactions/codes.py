"""Every error code wsactions produces, with a default message for templates.

Codes are spelled exactly as the shop system documents them (including
oddities such as ``selfAdminRemovalNotallowed``). Hosts translate by code;
:data:`MESSAGES` is the English fallback.
"""

from __future__ import annotations

from types import MappingProxyType

#: Codes the engine itself may produce for any action.
ENGINE_CODES: frozenset[str] = frozenset(
    {
        "unknownAction",
        "csrfCheckFailed",
        "sessionLocked",
        "tooManyRequests",
        "duplicateParameter",
        "invalidParameter",
    }
)

MESSAGES = MappingProxyType(
    {
        # engine
        "unknownAction": "wsact names no registered action.",
        "csrfCheckFailed": "wscsrf is missing, malformed or not bound to this session.",
        "sessionLocked": "The session is locked and this action is not allowed while locked.",
        "tooManyRequests": "A rate limit for this action and client was exceeded.",
        "duplicateParameter": "A parameter that must be single was sent more than once.",
        "invalidParameter": "A parameter value is not text, contains NUL or invalid "
        "Unicode, or exceeds the size limit.",
        # session
        "invalidSessionVariable": "A key is reserved, malformed or too long, or a value or "
        "the count of variables exceeds its bound.",
        # accounts
        "missingId": "The identifier parameter is empty.",
        "missingPassword": "The password parameter is empty.",
        "passwordMismatch": "The password and its repetition are not identical.",
        "emailCheckFailed": "The parameter does not contain a valid email address.",
        "passwordCheckFailed": "The password does not meet the password rules.",
        "accountAlreadyExists": "An account with the given email address already exists.",
        "unauthorized": "Not authorized: no valid opt-in token, or no admin rights.",
        "notLoggedIn": "The user is not logged in.",
        "loginBlocked": "Too many invalid login attempts.",
        "invalidCredentials": "Invalid login attempt: id or password is not correct.",
        "reauthenticationRequired": "Please confirm it is you: enter your password again.",
        "secondFactorRequired": "Enter the code of your authenticator app to finish logging in.",
        "noPendingLogin": "No login is waiting for a code: please log in again.",
        "missingCode": "Please enter the code.",
        "invalidCode": "The code is not correct.",
        "emailNotVerified": "Please confirm your email address first.",
        "secondFactorEnabled": "Two-step login is already on.",
        "noSecondFactorSetup": "Please start setting up two-step login first.",
        "noSecondFactor": "Two-step login is not on.",
        "passkeysUnavailable": "Passkeys are not set up for this shop (no base URL).",
        "noChallenge": "The passkey request expired or was used: please try again.",
        "passkeyInvalid": "The passkey could not be verified.",
        "passkeyExists": "This passkey is already saved.",
        "passkeyNotFound": "The account has no such passkey.",
        "lastCredential": "The last passkey of an account without a password cannot be removed.",
        "accountInactive": "The account may not log in (not activated, not verified, "
        "or deactivated).",
        "subshopNotAllowed": "This account may not log in to this subshop.",
        "missingEmail": "Parameter email is empty.",
        "passwordRecoveryFailed": "No user account exists for the specified email address.",
        "missingPasswordAuth": "Parameter passwordAuth is empty.",
        "failedPasswordAuth": "Parameter passwordAuth does not match the current password.",
        "actionNotAllowed": "The opt-in token is invalid, used, or does not match the account.",
        "missingDisplayName": "Parameter displayName is missing.",
        "fieldNotEditable": "Your privilege group does not allow editing this field.",
        "emptyCustomerData": "No customer data fields were passed.",
        "missingGuestData": "No guest checkout is recorded in this session.",
        "nonGuestAccount": "The user is already logged in to a customer account.",
        # addresses and cards
        "emptyAddress": "No address fields were passed.",
        "addressCheckFailed": "Error in the address data.",
        "invalidType": "Parameter type contains an invalid value.",
        "addressLimitReached": "The account already has the maximum number of addresses.",
        "invalidAddressId": "The address does not exist or does not belong to this account.",
        "missingAddressId": "Parameter addressId is missing.",
        "invalidPseudoCCId": "The credit card does not exist or does not belong to this account.",
        # b2b
        "missingMemberId": "Parameter memberId is missing.",
        "invalidMemberId": "The employee account does not exist or does not belong to this "
        "company.",
        "deletionNotAllowed": "Your own account and admin accounts cannot be deleted.",
        "selfDeactivationNotAllowed": "Your own account cannot be deactivated.",
        "selfAdminRemovalNotallowed": "Admin rights cannot be removed from your own account.",
        "invalidValue": "The parameter has a value outside its allowed set.",
        "invalidAccountId": "The opt-in token could not be assigned to any customer account.",
        "missingPrivilegeId": "Parameter privilegeId is missing.",
        "invalidPrivilegeId": "The privilege group does not exist and createMissing is not set.",
        "invalidPrivileges": "Parameter privileges is not a JSON object of known fields with "
        "valid values.",
        "missingName": "Parameter name is missing or empty.",
        "invalidId": "The privilege group does not exist.",
        "groupHasMembers": "Employee accounts are still assigned to the group.",
    }
)


def message(code: str) -> str:
    """The default English message for *code* (the code itself when unknown)."""
    return MESSAGES.get(code, code)
