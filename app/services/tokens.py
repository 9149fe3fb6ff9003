"""Bearer tokens for identity providers, behind ``custos token`` and the app's Tokens page and first run.

``TokenStore`` (app/setup/tokens.py) is the use-case API: ``create`` (the secret returned once, only its hash
kept), ``list`` (never a secret) and ``revoke`` each record their trail entry in the same transaction. Here it is
handed out over the vault the caller opened, with the name rule the first run checks before anything is written.
"""

from __future__ import annotations

from app.setup.token_expiry import expiry_note
from app.setup.tokens import TokenInfo, TokenStore, check_token_name
from app.store.vault import Vault

__all__ = ["TokenInfo", "TokenStore", "check_token_name", "expiry_note", "store"]


def store(vault: Vault) -> TokenStore:
    return TokenStore(vault)
