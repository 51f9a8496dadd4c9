"""SPL Token instruction helpers (classic Token program) used by deploy and tests."""

from __future__ import annotations

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from spl.token.constants import ACCOUNT_LEN, MINT_LEN, TOKEN_PROGRAM_ID
from spl.token.instructions import (
    InitializeAccountParams,
    InitializeMintParams,
    MintToParams,
    initialize_account,
    initialize_mint,
    mint_to,
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
