"""Typed client of the aistm7 program: pure instruction builders and one async
sender that confirms, reads the transaction back and names program errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from anchorpy.program.common import Event
from anchorpy.program.core import Program
from anchorpy.program.event import EventParser
from anchorpy.provider import Provider, Wallet
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction

from keeper import addresses, revenue_tree
from anchorpy.error import extract_code_tx_error

from keeper.errors import ProgramFailure, error_name, translate
from keeper.tx import SEND_OPTS, Sender
from keeper.idl import load_idl, struct_fields
from keeper.state import (
    AccessLock,
    Authorities,
    Buyback,
    BuybackParams,
    BuyOrder,
    Config,
    DataAndSlot,
    OracleParams,
    Proposal,
    ProposalAction,
    RequirementOverride,
    RequirementParams,
    RevenueBatch,
    ServiceFee,
    SetCouncil,
    SetGuardian,
    TokenInfo,
    TokenParams,
    WalletLink,
    Withdraw,
)



@dataclass(frozen=True)
class TxResult:
    signature: Signature
    slot: int
    logs: list[str]
    return_data: bytes | None


class Aistm7Client:
    """The aistm7 program (and mock_pyth on local validators) over one RPC connection."""

    def __init__(
        self,
        connection: AsyncClient,
        payer: Keypair,
        program_id: Pubkey = addresses.PROGRAM_ID,
        priority_fee: bool = False,
    ):
        self.connection = connection
        self.payer = payer
        provider = Provider(connection, Wallet(payer), SEND_OPTS)
        self.program = Program(load_idl("aistm7"), program_id, provider)
        self.mock_pyth = Program(load_idl("mock_pyth"), addresses.PYTH_RECEIVER_ID, provider)
        self._events = EventParser(program_id, self.program.coder)
        self.sender = Sender(connection, payer, str(connection._provider.endpoint_uri), priority_fee)

    @classmethod
    def connect(cls, rpc_url: str, payer: Keypair, priority_fee: bool = False) -> Aistm7Client:
        return cls(AsyncClient(rpc_url, Confirmed), payer, priority_fee=priority_fee)

    async def close(self) -> None:
        await self.connection.close()

    @property
    def program_id(self) -> Pubkey:
        return self.program.program_id

    def config_address(self) -> Pubkey:
        return addresses.config_pda(self.program_id)

    # --- instruction builders (pure) ---

    # Struct arguments go in as dicts: anchorpy encodes its generated
    # dataclasses with dataclasses.asdict, which cannot copy solders' Pubkey.

    @staticmethod
    def _authorities(authorities: Authorities) -> dict[str, Any]:
        return {
            "admin": authorities.admin,
            "guardian": authorities.guardian,
            "keeper": authorities.keeper,
            "fee_collector": authorities.fee_collector,
            "rewarder": authorities.rewarder,
        }

    @staticmethod
    def _requirement_params(params: RequirementParams) -> dict[str, Any]:
        return dict(vars(params))

    @staticmethod
    def _oracle_params(params: OracleParams) -> dict[str, Any]:
        values = dict(vars(params))
        values["primary_feed_id"] = list(params.primary_feed_id)
        values["backup_feed_id"] = list(params.backup_feed_id)
        return values

    def initialize_ix(
        self,
        initializer: Pubkey,
        mint: Pubkey,
        authorities: Authorities,
        oracle_params: OracleParams,
        requirement_params: RequirementParams = RequirementParams(),
        token_params: TokenParams = TokenParams(),
        token_info: TokenInfo = TokenInfo(),
        program_data: Pubkey | None = None,
    ) -> Instruction:
        """`program_data` is required where the program is deployed with the
        upgradeable loader; the initializer must be its upgrade authority."""
        args = {
            "authorities": self._authorities(authorities),
            "requirement_params": self._requirement_params(requirement_params),
            "oracle_params": self._oracle_params(oracle_params),
            "token_params": dict(vars(token_params)),
            "token_info": dict(vars(token_info)),
        }
        return (
            self.program.methods["initialize"]
            .args([args])
            .accounts(
                {
                    "initializer": initializer,
                    "config": self.config_address(),
                    "mint": mint,
                    "treasury_vault": addresses.treasury_pda(mint, self.program_id),
                    "reward_vault": addresses.reward_vault_pda(mint, self.program_id),
                    "buyback_vault": addresses.buyback_vault_pda(mint, self.program_id),
                    "lock_vault": addresses.lock_vault_pda(mint, self.program_id),
                    "program": self.program_id,
                    # Anchor reads an absent optional account as the program id.
                    "program_data": program_data or self.program_id,
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def set_authorities_ix(
        self,
        admin: Pubkey,
        *,
        new_admin: Pubkey | None = None,
        keeper: Pubkey | None = None,
        fee_collector: Pubkey | None = None,
        rewarder: Pubkey | None = None,
    ) -> Instruction:
        """Replace the given roles; `None` keeps a role as it is. The guardian
        is not the admin's to replace: see `set_guardian_ix` and `SetGuardian`."""
        args = {
            "admin": new_admin,
            "keeper": keeper,
            "fee_collector": fee_collector,
            "rewarder": rewarder,
        }
        return (
            self.program.methods["set_authorities"]
            .args([args])
            .accounts({"admin": admin, "config": self.config_address()})
            .instruction()
        )

    def _config_ix(self, name: str, signer_role: str, signer: Pubkey, args: list[Any]) -> Instruction:
        """An admin or guardian instruction: (signer, config) accounts."""
        return (
            self.program.methods[name]
            .args(args)
            .accounts({signer_role: signer, "config": self.config_address()})
            .instruction()
        )

    @staticmethod
    def _changes(args_type: str, changes: dict[str, int]) -> dict[str, int | None]:
        """`changes` as the `Option` fields of the program's `args_type`; a
        field the instruction cannot set is a TypeError, never dropped."""
        fields = struct_fields("aistm7", args_type)
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"{args_type} cannot set {sorted(unknown)}")
        return {name: changes.get(name) for name in fields}

    def set_requirement_params_ix(self, admin: Pubkey, **changes: int) -> Instruction:
        """Change the named `RequirementParams` fields; the rest stay. The
        unlock cooldown is set at initialize only (the program has no setter)."""
        args = self._changes("SetRequirementParamsArgs", changes)
        return self._config_ix("set_requirement_params", "admin", admin, [args])

    def set_oracle_params_ix(self, admin: Pubkey, **changes: int | bytes) -> Instruction:
        """Change the named `OracleParams` fields; `backup_feed_id=bytes(32)` removes the backup."""
        unknown = set(changes) - set(OracleParams.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown oracle parameters: {sorted(unknown)}")
        args = {
            name: (list(value) if isinstance(value, bytes) else value)
            for name, value in ((n, changes.get(n)) for n in OracleParams.__dataclass_fields__)
        }
        return self._config_ix("set_oracle_params", "admin", admin, [args])

    def set_requirement_override_ix(self, admin: Pubkey, override: RequirementOverride | None) -> Instruction:
        """Set a fixed requirement until it expires, or clear it with `None`."""
        value = None if override is None else {"amount": override.amount, "expires_at": override.expires_at}
        return self._config_ix("set_requirement_override", "admin", admin, [{"emergency_override": value}])

    def set_guardian_ix(self, guardian: Pubkey, new_guardian: Pubkey) -> Instruction:
        """The guardian hands its role to `new_guardian` (never the admin)."""
        return self._config_ix("set_guardian", "guardian", guardian, [new_guardian])

    def set_paused_ix(self, guardian: Pubkey, paused: bool) -> Instruction:
        return self._config_ix("set_paused", "guardian", guardian, [paused])

    def reset_circuit_breaker_ix(self, guardian: Pubkey) -> Instruction:
        return self._config_ix("reset_circuit_breaker", "guardian", guardian, [])

    def refresh_requirement_ix(self, primary_price: Pubkey, backup_price: Pubkey | None = None) -> Instruction:
        """`backup_price` is required when the config names a backup feed (and ignored otherwise)."""
        return (
            self.program.methods["refresh_requirement"]
            .accounts(
                {
                    "config": self.config_address(),
                    "primary_price": primary_price,
                    "backup_price": backup_price or self.program_id,
                }
            )
            .instruction()
        )

    def verify_access_ix(self, wallet: Pubkey) -> Instruction:
        """Check the tokens `wallet` locked against the effective requirement;
        the result (`AccessResult`) comes back as return data. Nothing is stored."""
        return (
            self.program.methods["verify_access"]
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "access_lock": addresses.lock_pda(wallet, self.program_id),
                }
            )
            .instruction()
        )

    def lock_tokens_ix(self, wallet: Pubkey, mint: Pubkey, wallet_token: Pubkey, amount: int) -> Instruction:
        """Move `amount` from the wallet's `wallet_token` into the lock vault; it counts toward access at once."""
        return (
            self.program.methods["lock_tokens"]
            .args([amount])
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "mint": mint,
                    "wallet_token": wallet_token,
                    "access_lock": addresses.lock_pda(wallet, self.program_id),
                    "lock_vault": addresses.lock_vault_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def request_unlock_ix(self, wallet: Pubkey, amount: int) -> Instruction:
        """Stop counting `amount` of the wallet's locked tokens; withdrawable after the unlock cooldown."""
        return (
            self.program.methods["request_unlock"]
            .args([amount])
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "access_lock": addresses.lock_pda(wallet, self.program_id),
                }
            )
            .instruction()
        )

    def withdraw_unlocked_ix(self, wallet: Pubkey, mint: Pubkey, wallet_token: Pubkey) -> Instruction:
        """Return every unlocking token whose cooldown passed to `wallet_token`; an emptied lock closes."""
        return (
            self.program.methods["withdraw_unlocked"]
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "mint": mint,
                    "access_lock": addresses.lock_pda(wallet, self.program_id),
                    "wallet_token": wallet_token,
                    "lock_vault": addresses.lock_vault_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def write_price_ix(
        self,
        authority: Pubkey,
        price_account: Pubkey,
        feed_id: bytes,
        price: int,
        publish_time: int,
        *,
        conf: int = 0,
        expo: int = -8,
        ema_price: int | None = None,
        ema_conf: int = 0,
        partial_signatures: int | None = None,
        posted_slot: int | None = None,
    ) -> Instruction:
        """mock_pyth (local validators only): write a PriceUpdateV2; the price
        account signs too (it is created on first write)."""
        args = {
            "feed_id": list(feed_id),
            "price": price,
            "conf": conf,
            "exponent": expo,
            "publish_time": publish_time,
            "prev_publish_time": publish_time - 1,
            "ema_price": price if ema_price is None else ema_price,
            "ema_conf": ema_conf,
            "partial_signatures": partial_signatures,
            "posted_slot": posted_slot,
        }
        return (
            self.mock_pyth.methods["write_price"]
            .args([args])
            .accounts(
                {"authority": authority, "price_update": price_account, "system_program": addresses.SYSTEM_PROGRAM_ID}
            )
            .instruction()
        )

    def deposit_treasury_ix(self, funder: Pubkey, mint: Pubkey, funder_token: Pubkey, amount: int) -> Instruction:
        return (
            self.program.methods["deposit_treasury"]
            .args([amount])
            .accounts(
                {
                    "funder": funder,
                    "config": self.config_address(),
                    "mint": mint,
                    "funder_token": funder_token,
                    "treasury_vault": addresses.treasury_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def set_token_params_ix(self, admin: Pubkey, **changes: int) -> Instruction:
        """Change the named `TokenParams` fields; `max_supply` can only go down
        (raising it is a `SetMaxSupply` proposal)."""
        args = self._changes("SetTokenParamsArgs", changes)
        return self._config_ix("set_token_params", "admin", admin, [args])

    def mint_to_ix(self, admin: Pubkey, mint: Pubkey, destination: Pubkey, amount: int) -> Instruction:
        """Mint through the program (admin only, capped by max supply)."""
        return (
            self.program.methods["mint_to"]
            .args([amount])
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "mint": mint,
                    "mint_authority": addresses.mint_authority_pda(self.program_id),
                    "destination": destination,
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def fund_rewards_ix(self, admin: Pubkey, mint: Pubkey, source: Pubkey, amount: int) -> Instruction:
        return (
            self.program.methods["fund_rewards"]
            .args([amount])
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "mint": mint,
                    "source": source,
                    "reward_vault": addresses.reward_vault_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def distribute_reward_ix(
        self, rewarder: Pubkey, mint: Pubkey, recipient_token: Pubkey, reward_type: int, amount: int
    ) -> Instruction:
        return (
            self.program.methods["distribute_reward"]
            .args([reward_type, amount])
            .accounts(
                {
                    "rewarder": rewarder,
                    "config": self.config_address(),
                    "mint": mint,
                    "reward_vault": addresses.reward_vault_pda(mint, self.program_id),
                    "recipient_token": recipient_token,
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def initialize_fee_schedule_ix(self, admin: Pubkey) -> Instruction:
        return (
            self.program.methods["initialize_fee_schedule"]
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "fee_schedule": addresses.fee_schedule_pda(self.program_id),
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def set_service_fee_ix(
        self,
        admin: Pubkey,
        name: str,
        *,
        cost: int | None = None,
        active: bool | None = None,
        valid_from: int | None = None,
        valid_to: int | None = None,
    ) -> Instruction:
        """Add `name` (cost required) or change the given terms of it."""
        args = {"name": name, "cost": cost, "active": active, "valid_from": valid_from, "valid_to": valid_to}
        return (
            self.program.methods["set_service_fee"]
            .args([args])
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "fee_schedule": addresses.fee_schedule_pda(self.program_id),
                }
            )
            .instruction()
        )

    def pay_service_fee_ix(self, payer: Pubkey, mint: Pubkey, payer_token: Pubkey, service: str) -> Instruction:
        return (
            self.program.methods["pay_service_fee"]
            .args([service])
            .accounts(
                {
                    "payer": payer,
                    "config": self.config_address(),
                    "fee_schedule": addresses.fee_schedule_pda(self.program_id),
                    "mint": mint,
                    "payer_token": payer_token,
                    "treasury_vault": addresses.treasury_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def charge_service_fee_ix(
        self, fee_collector: Pubkey, mint: Pubkey, user_token: Pubkey, service: str, request_id: bytes
    ) -> Instruction:
        """Charge a user's fee for `request_id` (32 bytes) from its allowance."""
        return (
            self.program.methods["charge_service_fee"]
            .args([service, list(request_id)])
            .accounts(
                {
                    "fee_collector": fee_collector,
                    "config": self.config_address(),
                    "fee_schedule": addresses.fee_schedule_pda(self.program_id),
                    "mint": mint,
                    "user_token": user_token,
                    "fee_delegate": addresses.fee_delegate_pda(self.program_id),
                    "receipt": addresses.charge_receipt_pda(request_id, self.program_id),
                    "treasury_vault": addresses.treasury_pda(mint, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def connect_wallet_ix(self, wallet: Pubkey, user_ref: bytes) -> Instruction:
        return (
            self.program.methods["connect_wallet"]
            .args([list(user_ref)])
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "link": addresses.wallet_link_pda(wallet, self.program_id),
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def disconnect_wallet_ix(self, wallet: Pubkey) -> Instruction:
        return (
            self.program.methods["disconnect_wallet"]
            .accounts(
                {
                    "wallet": wallet,
                    "config": self.config_address(),
                    "link": addresses.wallet_link_pda(wallet, self.program_id),
                    "access_lock": addresses.lock_pda(wallet, self.program_id),
                }
            )
            .instruction()
        )

    # --- buy-order treasury ---

    def initialize_buyback_ix(
        self, admin: Pubkey, quote_mint: Pubkey, params: BuybackParams, council: Sequence[Pubkey]
    ) -> Instruction:
        rate_type = self.program.type["QuoteRate"]
        rate = (
            rate_type.UsdViaPyth()
            if params.quote_units_per_zar is None
            else rate_type.FixedZar(quote_units_per_zar=params.quote_units_per_zar)
        )
        values = {name: value for name, value in vars(params).items() if name != "quote_units_per_zar"}
        values["quote_rate"] = rate
        values["token_feed_id"] = list(params.token_feed_id)
        values["usd_zar_feed_id"] = list(params.usd_zar_feed_id)
        return (
            self.program.methods["initialize_buyback"]
            .args([{"params": values, "council": list(council)}])
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "quote_mint": quote_mint,
                    "quote_vault": addresses.quote_vault_pda(self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def report_revenue_ix(self, keeper: Pubkey, batch_seq: int, root: revenue_tree.Node) -> Instruction:
        """Report the batch whose Merkle-sum tree has `root` (`keeper.revenue_tree`)."""
        course_sale, subscription, other, events = root.sums
        batch = self.program.type["BatchCommitment"](
            root=list(root.hash), course_sale=course_sale, subscription=subscription, other=other, events=events
        )
        return (
            self.program.methods["report_revenue"]
            .args([batch_seq, batch])
            .accounts(
                {
                    "keeper": keeper,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "revenue_batch": addresses.revenue_batch_pda(batch_seq, self.program_id),
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def execute_buy_order_ix(
        self, keeper: Pubkey, order_id: int, quote_mint: Pubkey, token_price: Pubkey, usd_zar_price: Pubkey
    ) -> Instruction:
        """Open order `order_id` (the buy-back's `next_order_id`)."""
        return (
            self.program.methods["execute_buy_order"]
            .accounts(
                {
                    "keeper": keeper,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "token_price": token_price,
                    "usd_zar_price": usd_zar_price,
                    "quote_mint": quote_mint,
                    "quote_vault": addresses.quote_vault_pda(self.program_id),
                    "order": addresses.order_pda(order_id, self.program_id),
                    "escrow": addresses.order_escrow_pda(order_id, self.program_id),
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def fill_buy_order_ix(
        self,
        seller: Pubkey,
        order_id: int,
        mint: Pubkey,
        quote_mint: Pubkey,
        seller_token: Pubkey,
        seller_quote: Pubkey,
        token_price: Pubkey,
        usd_zar_price: Pubkey,
        amount: int,
    ) -> Instruction:
        return (
            self.program.methods["fill_buy_order"]
            .args([amount])
            .accounts(
                {
                    "seller": seller,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "order": addresses.order_pda(order_id, self.program_id),
                    "escrow": addresses.order_escrow_pda(order_id, self.program_id),
                    "mint": mint,
                    "quote_mint": quote_mint,
                    "seller_token": seller_token,
                    "seller_quote": seller_quote,
                    "buyback_vault": addresses.buyback_vault_pda(mint, self.program_id),
                    "token_price": token_price,
                    "usd_zar_price": usd_zar_price,
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def _order_refund_accounts(self, order_id: int, quote_mint: Pubkey) -> dict[str, Pubkey]:
        return {
            "config": self.config_address(),
            "buyback": addresses.buyback_pda(self.program_id),
            "order": addresses.order_pda(order_id, self.program_id),
            "escrow": addresses.order_escrow_pda(order_id, self.program_id),
            "quote_vault": addresses.quote_vault_pda(self.program_id),
            "quote_mint": quote_mint,
            "token_program": addresses.TOKEN_PROGRAM_ID,
        }

    def close_expired_buy_order_ix(self, order_id: int, quote_mint: Pubkey) -> Instruction:
        accounts = self._order_refund_accounts(order_id, quote_mint)
        return self.program.methods["close_expired_buy_order"].accounts(accounts).instruction()

    def cancel_buy_order_ix(self, admin: Pubkey, order_id: int, quote_mint: Pubkey) -> Instruction:
        accounts = {"admin": admin, **self._order_refund_accounts(order_id, quote_mint)}
        return self.program.methods["cancel_buy_order"].accounts(accounts).instruction()

    def close_buy_order_ix(self, order_id: int, quote_mint: Pubkey, payer: Pubkey) -> Instruction:
        """Close a settled order and its escrow after the retention period;
        both rents go to `payer`, who opened it (the order's `payer`)."""
        accounts = {**self._order_refund_accounts(order_id, quote_mint), "payer": payer}
        return self.program.methods["close_buy_order"].accounts(accounts).instruction()

    def close_charge_receipt_ix(self, request_id: bytes, payer: Pubkey) -> Instruction:
        """Close a charge receipt after the retention period; its rent goes to
        `payer`, the fee collector that paid it (the receipt's `payer`)."""
        return (
            self.program.methods["close_charge_receipt"]
            .accounts(
                {
                    "config": self.config_address(),
                    "receipt": addresses.charge_receipt_pda(request_id, self.program_id),
                    "payer": payer,
                }
            )
            .instruction()
        )

    def withdraw_quote_ix(self, admin: Pubkey, quote_mint: Pubkey, destination: Pubkey, amount: int) -> Instruction:
        return (
            self.program.methods["withdraw_quote"]
            .args([amount])
            .accounts(
                {
                    "admin": admin,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "quote_vault": addresses.quote_vault_pda(self.program_id),
                    "quote_mint": quote_mint,
                    "destination": destination,
                    "token_program": addresses.TOKEN_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def _action(self, action: ProposalAction) -> Any:
        variants = self.program.type["ProposalAction"]
        if isinstance(action, Withdraw):
            return variants.Withdraw(vault=action.vault, destination=action.destination, amount=action.amount)
        if isinstance(action, SetCouncil):
            return variants.SetCouncil(members=list(action.members), approvals_required=action.approvals_required)
        if isinstance(action, SetGuardian):
            return variants.SetGuardian(guardian=action.guardian)
        return variants.SetMaxSupply(max_supply=action.max_supply)

    def create_proposal_ix(self, proposer: Pubkey, proposal_id: int, action: ProposalAction) -> Instruction:
        """Propose `action` as proposal `proposal_id` (the buy-back's
        `next_proposal_id`); the proposer (the admin or a council member) pays its rent."""
        destination = action.destination if isinstance(action, Withdraw) else self.program_id
        return (
            self.program.methods["create_proposal"]
            .args([self._action(action)])
            .accounts(
                {
                    "proposer": proposer,
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "proposal": addresses.proposal_pda(proposal_id, self.program_id),
                    # Anchor reads an absent optional account as the program id.
                    "destination": destination,
                    "system_program": addresses.SYSTEM_PROGRAM_ID,
                }
            )
            .instruction()
        )

    def approve_proposal_ix(self, member: Pubkey, proposal_id: int) -> Instruction:
        return (
            self.program.methods["approve_proposal"]
            .accounts(
                {
                    "member": member,
                    "buyback": addresses.buyback_pda(self.program_id),
                    "proposal": addresses.proposal_pda(proposal_id, self.program_id),
                }
            )
            .instruction()
        )

    def execute_proposal_ix(
        self, proposal_id: int, action: ProposalAction, vault_mint: Pubkey | None = None
    ) -> Instruction:
        """Execute proposal `proposal_id`, whose action is `action`; a
        `Withdraw` needs the mint of its vault (`vault_mint`)."""
        absent = self.program_id
        vault = destination = mint = token_program = absent
        if isinstance(action, Withdraw):
            if vault_mint is None:
                raise ValueError("executing a withdrawal needs the mint of its vault")
            vault, destination, mint = action.vault, action.destination, vault_mint
            token_program = addresses.TOKEN_PROGRAM_ID
        return (
            self.program.methods["execute_proposal"]
            .accounts(
                {
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "proposal": addresses.proposal_pda(proposal_id, self.program_id),
                    "vault": vault,
                    "vault_mint": mint,
                    "destination": destination,
                    "token_program": token_program,
                }
            )
            .instruction()
        )

    def cancel_proposal_ix(self, guardian: Pubkey, proposal_id: int) -> Instruction:
        return (
            self.program.methods["cancel_proposal"]
            .accounts(
                {
                    "guardian": guardian,
                    "config": self.config_address(),
                    "proposal": addresses.proposal_pda(proposal_id, self.program_id),
                }
            )
            .instruction()
        )

    def close_proposal_ix(self, proposal_id: int, proposer: Pubkey) -> Instruction:
        """Close a settled, stale or expired proposal after the retention period;
        its rent goes back to `proposer`."""
        return (
            self.program.methods["close_proposal"]
            .accounts(
                {
                    "config": self.config_address(),
                    "buyback": addresses.buyback_pda(self.program_id),
                    "proposal": addresses.proposal_pda(proposal_id, self.program_id),
                    "proposer": proposer,
                }
            )
            .instruction()
        )

    # --- I/O ---

    async def send(
        self,
        instructions: Sequence[Instruction],
        signers: Sequence[Keypair] = (),
        on_signed: Callable[[Signature], Awaitable[None]] | None = None,
    ) -> TxResult:
        """Sign with the payer and `signers`, send with preflight, wait for
        confirmation and read the transaction back. A program error raises
        `ProgramFailure` naming it. `on_signed`: see `Sender.send`."""
        try:
            signature = await self.sender.send(instructions, signers, on_signed)
        except RPCException as exc:
            failure = translate(exc, self.program_id, "aistm7") or translate(
                exc, addresses.PYTH_RECEIVER_ID, "mock_pyth"
            )
            raise (failure or exc) from exc
        found = (await self.connection.get_transaction(signature, "json", Confirmed, 0)).value
        if found is None:
            raise RuntimeError(f"confirmed transaction {signature} not found")
        meta = found.transaction.meta
        logs = list(meta.log_messages or []) if meta else []
        return_data = bytes(meta.return_data.data) if meta and meta.return_data else None
        return TxResult(signature, found.slot, logs, return_data)

    async def simulate(self, instructions: Sequence[Instruction], signers: Sequence[Keypair] = ()) -> ProgramFailure | None:
        """What sending would do, without sending: None when it would succeed,
        else the named program error (other failures raise)."""
        latest = (await self.connection.get_latest_blockhash(Confirmed)).value
        tx = Transaction.new_signed_with_payer(
            list(instructions), self.payer.pubkey(), [self.payer, *signers], latest.blockhash
        )
        result = (await self.connection.simulate_transaction(tx, commitment=Confirmed)).value
        if result.err is None:
            return None
        logs = list(result.logs or [])
        for program_id, program in ((self.program_id, "aistm7"), (addresses.PYTH_RECEIVER_ID, "mock_pyth")):
            code = extract_code_tx_error(result.err, program_id, logs)
            name = None if code is None else error_name(code, program)
            if code is not None and name is not None:
                return ProgramFailure(code, name, logs)
        raise RuntimeError(f"simulation failed: {result.err}")

    def events(self, logs: Sequence[str]) -> list[Event]:
        """The aistm7 events in a transaction's logs, in order."""
        found: list[Event] = []
        self._events.parse_logs(list(logs), found.append)
        return found

    async def cluster_time(self) -> int:
        """The cluster clock's unix timestamp."""
        data = (await self.connection.get_account_info(addresses.CLOCK_SYSVAR_ID, Confirmed)).value
        if data is None:
            raise RuntimeError("no Clock sysvar")
        return int.from_bytes(bytes(data.data)[32:40], "little", signed=True)

    async def fetch_access_lock(self, wallet: Pubkey) -> DataAndSlot[AccessLock] | None:
        found = await self._fetch(addresses.lock_pda(wallet, self.program_id))
        return None if found is None else DataAndSlot(AccessLock.decode(found[0]), found[1])

    async def _fetch(self, address: Pubkey) -> tuple[Any, int] | None:
        response = await self.connection.get_account_info(address, Confirmed)
        if response.value is None:
            return None
        return self.program.coder.accounts.decode(response.value.data), response.context.slot

    async def fetch_fee_schedule(self) -> DataAndSlot[list[ServiceFee]] | None:
        found = await self._fetch(addresses.fee_schedule_pda(self.program_id))
        if found is None:
            return None
        raw, slot = found
        return DataAndSlot([ServiceFee.decode(service) for service in raw.services], slot)

    async def fetch_wallet_link(self, wallet: Pubkey) -> DataAndSlot[WalletLink] | None:
        found = await self._fetch(addresses.wallet_link_pda(wallet, self.program_id))
        return None if found is None else DataAndSlot(WalletLink.decode(found[0]), found[1])

    async def fetch_buyback(self) -> DataAndSlot[Buyback] | None:
        found = await self._fetch(addresses.buyback_pda(self.program_id))
        return None if found is None else DataAndSlot(Buyback.decode(found[0]), found[1])

    async def fetch_revenue_batches(self, seqs: Sequence[int]) -> dict[int, RevenueBatch]:
        """The reported batches among `seqs` (absent ones are left out), 100 per request."""
        found: dict[int, RevenueBatch] = {}
        for start in range(0, len(seqs), 100):
            chunk = seqs[start : start + 100]
            keys = [addresses.revenue_batch_pda(seq, self.program_id) for seq in chunk]
            response = await self.connection.get_multiple_accounts(keys, Confirmed)
            for seq, account in zip(chunk, response.value):
                if account is not None and account.owner == self.program_id:
                    found[seq] = RevenueBatch.parse(bytes(account.data))
        return found

    async def fetch_buy_order(self, order_id: int) -> DataAndSlot[BuyOrder] | None:
        found = await self._fetch(addresses.order_pda(order_id, self.program_id))
        return None if found is None else DataAndSlot(BuyOrder.decode(found[0]), found[1])

    async def fetch_proposal(self, proposal_id: int) -> DataAndSlot[Proposal] | None:
        found = await self._fetch(addresses.proposal_pda(proposal_id, self.program_id))
        return None if found is None else DataAndSlot(Proposal.decode(found[0]), found[1])

    async def fetch_all(self, account_type: str) -> list[tuple[Pubkey, Any]]:
        """Every program account of `account_type` (an IDL account name), decoded."""
        found = await self.program.account[account_type].all()
        return [(item.public_key, item.account) for item in found]

    async def fetch_config(self) -> DataAndSlot[Config] | None:
        found = await self._fetch(self.config_address())
        return None if found is None else DataAndSlot(Config.decode(found[0]), found[1])
