// @coral-xyz/anchor against the local validator: a `Program` built from the
// committed IDL reads `Config`, sends `refresh_requirement` and hears its
// `RequirementUpdated` event over logsSubscribe.
// RPC_URL, IDL_PATH, PAYER_KEYPAIR (a solana-keygen JSON file), PRIMARY_PRICE
// and BACKUP_PRICE (fresh price accounts) come from the caller.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import anchor from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";

const { AnchorProvider, Program, Wallet } = anchor;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

test("an Anchor Program from the committed IDL refreshes the requirement", async () => {
  const idl = JSON.parse(readFileSync(required("IDL_PATH"), "utf8"));
  const secret = JSON.parse(readFileSync(required("PAYER_KEYPAIR"), "utf8"));
  const payer = Keypair.fromSecretKey(Uint8Array.from(secret));
  const connection = new Connection(required("RPC_URL"), "confirmed");
  const provider = new AnchorProvider(connection, new Wallet(payer), { commitment: "confirmed" });
  const program = new Program(idl, provider);
  const primaryPrice = new PublicKey(required("PRIMARY_PRICE"));
  const backupPrice = new PublicKey(required("BACKUP_PRICE"));

  const [config] = PublicKey.findProgramAddressSync([Buffer.from("config")], program.programId);
  const before = await program.account.config.fetch(config);
  assert.equal(before.paused, false);

  let listener = 0;
  let timer: NodeJS.Timeout | undefined;
  const event = new Promise<{ new: { toString(): string } }>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error("no RequirementUpdated event within 20 s")), 20_000);
    listener = program.addEventListener("requirementUpdated", (data: { new: { toString(): string } }) => resolve(data));
  });
  let signature: string;
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    signature = await program.methods.refreshRequirement().accounts({ primaryPrice, backupPrice }).rpc();
    const after = await program.account.config.fetch(config);
    assert.ok(after.requirement.updatedAt.gt(before.requirement.updatedAt), "the requirement was re-priced");
    assert.notEqual(after.requirement.required.toString(), before.requirement.required.toString());
    const updated = await event;
    assert.equal(updated.new.toString(), after.requirement.required.toString());
  } finally {
    clearTimeout(timer);
    // An open subscription would keep node running after a failure.
    await program.removeEventListener(listener);
  }

  const tx = await connection.getParsedTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
  assert.equal(tx?.meta?.err, null);
  assert.ok(tx?.meta?.logMessages?.some((line) => line.includes("Instruction: RefreshRequirement")));
});
