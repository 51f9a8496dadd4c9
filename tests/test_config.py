"""initialize / set_authorities through anchorpy against the local validator."""

from __future__ import annotations

import pytest
from solana.rpc.core import RPCException
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import Deployment
from keeper.errors import ProgramFailure
from keeper.state import Authorities
from tests.conftest import Roles


async def test_second_initialize_fails_and_keeps_the_config(client: Aistm7Client, deployment: Deployment) -> None:
    hijacker = Keypair()
    oracle = (await client.fetch_config()).data.oracle_params
    authorities = Authorities.all_but_guardian(hijacker.pubkey(), Keypair().pubkey())
    ix = client.initialize_ix(client.payer.pubkey(), deployment.mint, authorities, oracle)

    with pytest.raises(RPCException) as raised:
        await client.send([ix])

    failure = raised.value.args[0].data
    # The system program refuses to create the config account a second time.
    assert any("already in use" in line for line in failure.logs)
    assert (await client.fetch_config()).data.authorities == deployment.authorities


async def test_set_authorities_by_a_non_admin_fails_unauthorized(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    stranger = Keypair()
    for signer in (stranger, roles.guardian):
        ix = client.set_authorities_ix(signer.pubkey(), new_admin=stranger.pubkey())
        with pytest.raises(ProgramFailure) as raised:
            await client.send([ix], [signer])
        assert raised.value.name == "Unauthorized"
        assert raised.value.code == 6000

    assert (await client.fetch_config()).data.authorities == deployment.authorities


async def test_set_authorities_rejects_the_default_key(client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    ix = client.set_authorities_ix(roles.admin.pubkey(), rewarder=Pubkey.default())

    with pytest.raises(ProgramFailure) as raised:
        await client.send([ix], [roles.admin])

    assert raised.value.name == "InvalidAuthority"
    assert (await client.fetch_config()).data.authorities.rewarder == roles.rewarder.pubkey()


async def test_the_admin_cannot_also_be_the_guardian(client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    by_admin = client.set_authorities_ix(roles.admin.pubkey(), new_admin=roles.guardian.pubkey())
    by_guardian = client.set_guardian_ix(roles.guardian.pubkey(), roles.admin.pubkey())
    for ix, signer in ((by_admin, roles.admin), (by_guardian, roles.guardian)):
        with pytest.raises(ProgramFailure) as raised:
            await client.send([ix], [signer])
        assert raised.value.name == "AdminCannotBeGuardian"

    assert (await client.fetch_config()).data.authorities == deployment.authorities


async def test_initialize_stored_the_deployment(client: Aistm7Client, deployment: Deployment) -> None:
    found = await client.fetch_config()

    assert found is not None
    config = found.data
    assert config.version == 1
    assert config.authorities == deployment.authorities
    assert config.mint == deployment.mint
    assert config.treasury_vault == addresses.treasury_pda(deployment.mint)
    assert (config.token_info.name, config.token_info.symbol) == ("AISTM7", "AISTM7")
    assert config.reward_vault == addresses.reward_vault_pda(deployment.mint)
    assert config.buyback_vault == addresses.buyback_vault_pda(deployment.mint)
    assert config.lock_vault == addresses.lock_vault_pda(deployment.mint)
    assert config.requirement_params.unlock_cooldown_secs == 86_400
    assert deployment.initialize is not None
    events = client.events(deployment.initialize.logs)
    assert [event.name for event in events] == ["ConfigInitialized"]
    assert events[0].data.mint == deployment.mint
    assert events[0].data.authorities.admin == deployment.authorities.admin


async def test_admin_changes_one_role_and_the_event_records_it(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    new_rewarder = Keypair().pubkey()

    changed = await client.send([client.set_authorities_ix(roles.admin.pubkey(), rewarder=new_rewarder)], [roles.admin])
    after = (await client.fetch_config()).data.authorities
    # Put the session's rewarder back for the other tests.
    await client.send([client.set_authorities_ix(roles.admin.pubkey(), rewarder=roles.rewarder.pubkey())], [roles.admin])

    assert after.rewarder == new_rewarder
    assert after.admin == roles.admin.pubkey() and after.guardian == roles.guardian.pubkey()
    (event,) = client.events(changed.logs)
    assert event.name == "AuthoritiesUpdated"
    assert event.data.old.rewarder == roles.rewarder.pubkey()
    assert event.data.new.rewarder == new_rewarder
    assert event.data.new.keeper == event.data.old.keeper == roles.keeper.pubkey()


async def test_only_the_guardian_hands_over_its_role(client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    successor = Keypair()
    await expect_unauthorized(client, client.set_guardian_ix(roles.admin.pubkey(), successor.pubkey()), roles.admin)

    handed = await client.send([client.set_guardian_ix(roles.guardian.pubkey(), successor.pubkey())], [roles.guardian])
    after = (await client.fetch_config()).data.authorities
    # The successor hands it back for the other tests.
    await client.send([client.set_guardian_ix(successor.pubkey(), roles.guardian.pubkey())], [successor])

    assert after.guardian == successor.pubkey() and after.admin == roles.admin.pubkey()
    (event,) = client.events(handed.logs)
    assert (event.name, event.data.old.guardian, event.data.new.guardian) == (
        "AuthoritiesUpdated", roles.guardian.pubkey(), successor.pubkey()
    )
    assert (await client.fetch_config()).data.authorities == deployment.authorities


async def expect_unauthorized(client: Aistm7Client, ix: Instruction, signer: Keypair) -> None:
    with pytest.raises(ProgramFailure) as raised:
        await client.send([ix], [signer])
    assert raised.value.name == "Unauthorized"
