"""SPL Token instruction helpers (classic Token program) used by deploy and tests."""

from __future__ import annotations

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from spl.token.constants import ACCOUNT_LEN, MINT_LEN, TOKEN_PROGRAM_ID
from spl.token.instructions import (
    ApproveParams,
    AuthorityType,
    InitializeAccountParams,
    InitializeMintParams,
    MintToParams,
    SetAuthorityParams,
    approve,
    initialize_account,
    initialize_mint,
    mint_to,
    set_authority,
)


def create_mint_ixs(payer: Pubkey, mint: Pubkey, authority: Pubkey, decimals: int, rent: int) -> list[Instruction]:
    return [
        create_account(
            CreateAccountParams(from_pubkey=payer, to_pubkey=mint, lamports=rent, space=MINT_LEN, owner=TOKEN_PROGRAM_ID)
        ),
        initialize_mint(
            InitializeMintParams(
                decimals=decimals, program_id=TOKEN_PROGRAM_ID, mint=mint, mint_authority=authority, freeze_authority=None
            )
        ),
    ]


def create_token_account_ixs(payer: Pubkey, account: Pubkey, mint: Pubkey, owner: Pubkey, rent: int) -> list[Instruction]:
    return [
        create_account(
            CreateAccountParams(
                from_pubkey=payer, to_pubkey=account, lamports=rent, space=ACCOUNT_LEN, owner=TOKEN_PROGRAM_ID
            )
        ),
        initialize_account(InitializeAccountParams(program_id=TOKEN_PROGRAM_ID, account=account, mint=mint, owner=owner)),
    ]


def mint_to_ix(mint: Pubkey, dest: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    return mint_to(
        MintToParams(program_id=TOKEN_PROGRAM_ID, mint=mint, dest=dest, mint_authority=authority, amount=amount)
    )


def set_mint_authority_ix(mint: Pubkey, current: Pubkey, new: Pubkey) -> Instruction:
    return set_authority(
        SetAuthorityParams(
            program_id=TOKEN_PROGRAM_ID,
            account=mint,
            authority=AuthorityType.MINT_TOKENS,
            current_authority=current,
            new_authority=new,
        )
    )


def approve_ix(account: Pubkey, delegate: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    """Let `delegate` move up to `amount` from `account` (SPL `approve`)."""
    return approve(ApproveParams(program_id=TOKEN_PROGRAM_ID, source=account, delegate=delegate, owner=owner, amount=amount))
