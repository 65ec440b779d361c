from weft_shared.auth.admins import NetworkAdmins
from weft_shared.auth.deps import CurrentUser, bearer_token, current_principal
from weft_shared.auth.tokens import Principal, TokenVerifier, issue_dev_token

__all__ = [
    "CurrentUser",
    "NetworkAdmins",
    "Principal",
    "TokenVerifier",
    "bearer_token",
    "current_principal",
    "issue_dev_token",
]
