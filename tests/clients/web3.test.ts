// @solana/web3.js 1.x and @solana/spl-token against the local validator:
// sending and confirming at every commitment (over its WebSocket pubsub),
// parsed transactions and token accounts (SPL Token and Token-2022), and
// account and logs subscriptions. RPC_URL names the validator.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  createAssociatedTokenAccount,
  createMint,
  getAccount,
  mintTo,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  transfer,
} from "@solana/spl-token";
import {
  Commitment,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  ParsedInstruction,
  PublicKey,
  SendTransactionError,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";

const rpcUrl = process.env.RPC_URL;
if (!rpcUrl) throw new Error("RPC_URL is not set");

/** Resolves with the first value `subscribe` hands its callback, or fails after `ms`. */
function first<T>(subscribe: (callback: (value: T) => void) => number, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no notification within ${ms} ms`)), ms);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function funded(connection: Connection, sol = 10): Promise<Keypair> {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, sol * LAMPORTS_PER_SOL);
  const latest = await connection.getLatestBlockhash();
  await connection.confirmTransaction({ signature, ...latest }, "confirmed");
  return keypair;
}

function transferTx(from: Keypair, to: PublicKey, lamports: number): Transaction {
  return new Transaction().add(SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports }));
}

describe("@solana/web3.js", () => {
  const connection = new Connection(rpcUrl, "confirmed");
  let payer: Keypair;

  before(async () => {
    payer = await funded(connection);
  });

  for (const commitment of ["processed", "confirmed", "finalized"] as Commitment[]) {
    test(`sendAndConfirmTransaction at ${commitment}`, async () => {
      const at = new Connection(rpcUrl, commitment);
      const to = Keypair.generate().publicKey;
      const signature = await sendAndConfirmTransaction(at, transferTx(payer, to, 1_000_000), [payer], {
        commitment,
        preflightCommitment: commitment === "finalized" ? "confirmed" : commitment,
      });
      const status = (await at.getSignatureStatus(signature)).value;
      assert.ok(status, "the signature has a status");
      assert.equal(status.err, null);
      const order = ["processed", "confirmed", "finalized"];
      assert.ok(order.indexOf(status.confirmationStatus!) >= order.indexOf(commitment));
      assert.equal(await at.getBalance(to, commitment), 1_000_000);
    });
  }

  test("getParsedTransaction parses a system transfer", async () => {
    const to = Keypair.generate().publicKey;
    const signature = await sendAndConfirmTransaction(connection, transferTx(payer, to, 2_000_000), [payer]);
    const tx = await connection.getParsedTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    assert.ok(tx?.meta, "the transaction and its meta are found");
    const ix = tx.transaction.message.instructions[0] as ParsedInstruction;
    assert.equal(ix.program, "system");
    assert.equal(ix.parsed.type, "transfer");
    assert.equal(ix.parsed.info.lamports, 2_000_000);
    assert.equal(ix.parsed.info.destination, to.toBase58());
    assert.equal(tx.meta.fee, 5000);
    assert.ok(tx.blockTime && tx.slot > 0);
  });

  for (const programId of [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]) {
    const name = programId.equals(TOKEN_PROGRAM_ID) ? "SPL Token" : "Token-2022";
    test(`${name}: parsed token accounts, token balances and inner instructions`, async () => {
      const owner = Keypair.generate();
      const mint = await createMint(connection, payer, payer.publicKey, null, 6, undefined, undefined, programId);
      // The associated account is created through CPIs (system, token).
      const ata = await createAssociatedTokenAccount(connection, payer, mint, owner.publicKey, undefined, programId);
      const minted = await mintTo(connection, payer, mint, ata, payer, 2_500_000, [], undefined, programId);

      const accounts = await connection.getParsedTokenAccountsByOwner(owner.publicKey, { programId });
      assert.equal(accounts.value.length, 1);
      const info = accounts.value[0].account.data.parsed.info;
      assert.equal(info.mint, mint.toBase58());
      assert.equal(info.tokenAmount.amount, "2500000");
      assert.equal(info.tokenAmount.decimals, 6);
      assert.equal(info.tokenAmount.uiAmount, 2.5);
      assert.equal(accounts.value[0].account.owner.toBase58(), programId.toBase58());
      const byMint = await connection.getParsedTokenAccountsByOwner(owner.publicKey, { mint });
      assert.equal(byMint.value[0].pubkey.toBase58(), ata.toBase58());
      assert.equal((await connection.getTokenAccountBalance(ata)).value.uiAmountString, "2.5");
      assert.equal((await connection.getTokenSupply(mint)).value.amount, "2500000");
      assert.equal((await getAccount(connection, ata, "confirmed", programId)).amount, 2_500_000n);

      const mintTx = await connection.getParsedTransaction(minted, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
      assert.deepEqual(mintTx?.meta?.preTokenBalances?.map((b) => b.uiTokenAmount.amount), ["0"]);
      assert.deepEqual(mintTx?.meta?.postTokenBalances?.map((b) => b.uiTokenAmount.amount), ["2500000"]);
      assert.equal(mintTx?.meta?.postTokenBalances?.[0].owner, owner.publicKey.toBase58());

      const [created] = (await connection.getSignaturesForAddress(ata, undefined, "confirmed")).slice(-1);
      const createTx = await connection.getParsedTransaction(created.signature, {
        commitment: "confirmed",
        maxSupportedTransactionVersion: 0,
      });
      const inner = createTx?.meta?.innerInstructions ?? [];
      assert.ok(inner.length > 0, "creating an associated account records its CPIs");
      const innerPrograms = inner.flatMap((set) => set.instructions.map((ix) => ix.programId.toBase58()));
      assert.ok(innerPrograms.includes(programId.toBase58()));
      assert.ok(innerPrograms.includes(SystemProgram.programId.toBase58()));
    });
  }

  test("onAccountChange fires when the account changes", async () => {
    const watched = Keypair.generate().publicKey;
    let id = 0;
    const changed = first<{ lamports: number }>((callback) => {
      id = connection.onAccountChange(watched, callback, { commitment: "confirmed" });
      return id;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sendAndConfirmTransaction(connection, transferTx(payer, watched, 3_000_000), [payer]);
    assert.equal((await changed).lamports, 3_000_000);
    await connection.removeAccountChangeListener(id);
  });

  test("onLogs fires for a transaction that mentions the key", async () => {
    const sender = await funded(connection, 1);
    let id = 0;
    const logged = first<{ signature: string; err: unknown; logs: string[] }>((callback) => {
      id = connection.onLogs(sender.publicKey, callback, "confirmed");
      return id;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signature = await sendAndConfirmTransaction(connection, transferTx(sender, payer.publicKey, 1_000), [sender]);
    const logs = await logged;
    assert.equal(logs.signature, signature);
    assert.equal(logs.err, null);
    assert.ok(logs.logs.some((line) => line.includes("11111111111111111111111111111111 success")));
    await connection.removeOnLogsListener(id);
  });

  test("onSlotChange and onRootChange follow the chain", async () => {
    let slotId = 0;
    let rootId = 0;
    const slot = await first<{ slot: number; parent: number; root: number }>((callback) => {
      slotId = connection.onSlotChange(callback);
      return slotId;
    });
    const root = await first<number>((callback) => {
      rootId = connection.onRootChange(callback);
      return rootId;
    });
    assert.ok(slot.slot > slot.parent && slot.parent >= slot.root);
    assert.ok(root <= slot.slot);
    await connection.removeSlotChangeListener(slotId);
    await connection.removeRootChangeListener(rootId);
  });

  test("a failing transaction is refused at preflight with its logs", async () => {
    const broke = Keypair.generate();
    await assert.rejects(
      sendAndConfirmTransaction(connection, transferTx(broke, payer.publicKey, 1), [broke]),
      (error: unknown) => error instanceof SendTransactionError,
    );
    const poor = await funded(connection, 1);
    const overdraw = transferTx(poor, payer.publicKey, 5 * LAMPORTS_PER_SOL);
    await assert.rejects(sendAndConfirmTransaction(connection, overdraw, [poor]), (error: unknown) => {
      assert.ok(error instanceof SendTransactionError);
      return (error.logs ?? []).some((line) => line.includes("insufficient lamports"));
    });
  });

  test("transfer between token accounts moves the parsed balances", async () => {
    const mint = await createMint(connection, payer, payer.publicKey, null, 2);
    const alice = Keypair.generate().publicKey;
    const bob = Keypair.generate().publicKey;
    const from = await createAssociatedTokenAccount(connection, payer, mint, alice);
    const to = await createAssociatedTokenAccount(connection, payer, mint, bob);
    await mintTo(connection, payer, mint, from, payer, 1_000);
    // Alice's account is owned by a key nobody holds: the payer moves from its own.
    const own = await createAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    await mintTo(connection, payer, mint, own, payer, 500);
    const moved = await transfer(connection, payer, own, to, payer, 125);
    const tx = await connection.getParsedTransaction(moved, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    const post = new Map(tx?.meta?.postTokenBalances?.map((b) => [b.owner, b.uiTokenAmount.uiAmountString]));
    assert.equal(post.get(bob.toBase58()), "1.25");
    assert.equal(post.get(payer.publicKey.toBase58()), "3.75");
  });
});
