"""Program ids and PDA derivations, mirroring programs/aistm7/src/constants.rs."""

from __future__ import annotations

from solders.pubkey import Pubkey

PROGRAM_ID = Pubkey.from_string("666imxNugJ7XZpnhx46AUV4VTTFaitYTep6MwV7XYySM")
# mock_pyth is declared at the Pyth receiver's id on local validators.
PYTH_RECEIVER_ID = Pubkey.from_string("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ")
TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
CLOCK_SYSVAR_ID = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")

SEED_CONFIG = b"config"
SEED_TREASURY = b"treasury"
SEED_REWARD_VAULT = b"reward_vault"
SEED_BUYBACK_VAULT = b"buyback_vault"
SEED_MINT_AUTHORITY = b"mint_authority"
SEED_FEE_DELEGATE = b"fee_delegate"
SEED_FEES = b"fees"
SEED_CHARGE = b"charge"
SEED_LINK = b"link"
SEED_LOCK = b"lock"
SEED_LOCK_VAULT = b"lock_vault"
SEED_BUYBACK = b"buyback"
SEED_QUOTE_VAULT = b"quote_vault"
SEED_ORDER = b"order"
SEED_ORDER_ESCROW = b"order_escrow"
SEED_PROPOSAL = b"proposal"
SEED_REVENUE_BATCH = b"revenue_batch"


def pda(*seeds: bytes, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return Pubkey.find_program_address(list(seeds), program_id)[0]


def config_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The single config account."""
    return pda(SEED_CONFIG, program_id=program_id)


def treasury_pda(mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_TREASURY, bytes(mint), program_id=program_id)


def reward_vault_pda(mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_REWARD_VAULT, bytes(mint), program_id=program_id)


def buyback_vault_pda(mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_BUYBACK_VAULT, bytes(mint), program_id=program_id)


def mint_authority_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The token's mint authority once deployed."""
    return pda(SEED_MINT_AUTHORITY, program_id=program_id)


def fee_delegate_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The delegate users approve (SPL `approve`) for backend-charged fees."""
    return pda(SEED_FEE_DELEGATE, program_id=program_id)


def fee_schedule_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_FEES, program_id=program_id)


def charge_receipt_pda(request_id: bytes, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_CHARGE, request_id, program_id=program_id)


def wallet_link_pda(wallet: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_LINK, bytes(wallet), program_id=program_id)


def lock_pda(wallet: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The `AccessLock` of `wallet`: the tokens it locked for access."""
    return pda(SEED_LOCK, bytes(wallet), program_id=program_id)


def lock_vault_pda(mint: Pubkey, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The vault every wallet's locked tokens sit in."""
    return pda(SEED_LOCK_VAULT, bytes(mint), program_id=program_id)


def revenue_batch_pda(batch_seq: int, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """The account holding revenue batch `batch_seq`'s root, for good."""
    return pda(SEED_REVENUE_BATCH, batch_seq.to_bytes(8, "little"), program_id=program_id)


def buyback_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_BUYBACK, program_id=program_id)


def quote_vault_pda(program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_QUOTE_VAULT, program_id=program_id)


def order_pda(order_id: int, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_ORDER, order_id.to_bytes(8, "little"), program_id=program_id)


def order_escrow_pda(order_id: int, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    return pda(SEED_ORDER_ESCROW, order_id.to_bytes(8, "little"), program_id=program_id)


def proposal_pda(proposal_id: int, program_id: Pubkey = PROGRAM_ID) -> Pubkey:
    """A council proposal."""
    return pda(SEED_PROPOSAL, proposal_id.to_bytes(8, "little"), program_id=program_id)
