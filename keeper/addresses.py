"""Program ids and PDA derivations, mirroring programs/aistm7/src/constants.rs."""

from __future__ import annotations

from solders.pubkey import Pubkey

PROGRAM_ID = Pubkey.from_string("666imxNugJ7XZpnhx46AUV4VTTFaitYTep6MwV7XYySM")
# mock_pyth is declared at the Pyth receiver's id on local validators.
PYTH_RECEIVER_ID = Pubkey.from_string("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")

SEED_CONFIG = b"config"
SEED_TREASURY = b"treasury"
SEED_ACCESS = b"access"
CLOCK_SYSVAR_ID = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")


def config_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The single config account: `[SEED_CONFIG]`."""
    return Pubkey.find_program_address([SEED_CONFIG], program_id)[0]


def treasury_pda(mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The treasury token account of `mint`: `[SEED_TREASURY, mint]`."""
    return Pubkey.find_program_address([SEED_TREASURY, bytes(mint)], program_id)[0]


def access_pda(wallet: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The `AccessPass` of `wallet`: `[SEED_ACCESS, wallet]`."""
    return Pubkey.find_program_address([SEED_ACCESS, bytes(wallet)], program_id)[0]
