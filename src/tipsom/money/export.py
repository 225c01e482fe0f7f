"""Exports: FollowTheMoney entities for Aleph, and GEXF for Gephi.

FollowTheMoney (FtM) is the data model of Aleph and OpenSanctions, so an export
in it can be loaded next to company registries and leaks. Accounts become
``BankAccount`` (or ``CryptoWallet`` for crypto transfers), holders become
``Person``/``Company`` linked by ``Ownership``, and every transaction a
``Payment`` whose ``payer`` and ``beneficiary`` are always set: when no holder
is known, a ``LegalEntity`` stands for "the holder of account X", because FtM
requires both parties and an analyst needs a node to attach later knowledge to.

Accounts, wallets and a person's phones (a ``UserAccount`` the person owns)
take their ids from :func:`tipsom.core.identifiers.ftm_id` over the canonical
form, the scheme the OSINT export uses too: a wallet paid in a transaction
file and advertised in an ad is one entity once both exports are loaded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tipsom.core.identifiers import IdentifierKind, canonical_account, canonical_wallet, ftm_id
from tipsom.money.holders import HolderKind, ResolvedHolder
from tipsom.money.model import Channel, Finding
from tipsom.money.risk import AccountRisk

DATASET = "tipsom-money"


def _entities(transactions: pd.DataFrame, holders: list[ResolvedHolder], findings: list[Finding]) -> Iterator[Any]:
    from followthemoney import model

    notes: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        notes[f.account].append(f"{f.typology.value}: {f.explanation}")
    crypto = set(transactions.loc[transactions["channel"] == Channel.CRYPTO.value, "src"]) | set(
        transactions.loc[transactions["channel"] == Channel.CRYPTO.value, "dst"]
    )
    info: dict[str, tuple[str, str]] = {}
    for side in ("src", "dst"):
        cols = transactions[[side, f"{side}_institution", f"{side}_country"]].drop_duplicates(side)
        for acct, inst, country in cols.itertuples(index=False):
            info.setdefault(str(acct), (str(inst), str(country)))
    owner_of: dict[str, str] = {}
    for holder in holders:
        entity = model.make_entity("Company" if holder.kind is HolderKind.COMPANY else "Person")
        entity.id = holder.holder_id
        entity.add("name", holder.names)
        if holder.kind is HolderKind.PERSON:
            entity.add("phone", list(holder.phones))
        entity.add("idNumber", list(holder.id_numbers))
        yield entity
        if holder.kind is HolderKind.PERSON:
            for phone in holder.phones:
                line = model.make_entity("UserAccount")
                line.id = ftm_id(IdentifierKind.PHONE, phone)
                line.add("service", "telephone")
                line.add("username", phone)
                line.add("phone", phone)
                line.add("owner", holder.holder_id)
                yield line
        for account in holder.accounts:
            owner_of.setdefault(account, holder.holder_id)
    account_ids: dict[str, str] = {}
    for account, (inst, country) in sorted(info.items()):
        schema = "CryptoWallet" if account in crypto else "BankAccount"
        acct = model.make_entity(schema)
        if schema == "CryptoWallet":
            wallet = canonical_wallet(account)
            # A wallet whose checksum fails is still a node of the graph; its id is minted from it as written.
            acct.id = ftm_id(IdentifierKind.WALLET, wallet or account)
            acct.add("publicKey", wallet.partition(":")[2] if wallet else account)
            acct.add("blockchain", inst)
        else:
            acct.id = ftm_id(IdentifierKind.ACCOUNT, canonical_account(account) or account)
            acct.add("accountNumber", account)
            acct.add("bankName", inst)
        account_ids[account] = str(acct.id)
        acct.add("country", country.lower() if country else None, quiet=True)
        acct.add("notes", notes.get(account, []))
        if account not in owner_of:
            placeholder = model.make_entity("LegalEntity")
            placeholder.make_id("holder-of", account)
            placeholder.add("name", f"Holder of account {account}")
            owner_of[account] = str(placeholder.id)
            yield placeholder
        if schema == "CryptoWallet":
            acct.add("holder", owner_of[account])
        yield acct
        if schema == "BankAccount":
            own = model.make_entity("Ownership")
            own.make_id("ownership", owner_of[account], account)
            own.add("owner", owner_of[account])
            own.add("asset", acct.id)
            yield own
    for rec in transactions.itertuples(index=False):
        pay = model.make_entity("Payment")
        pay.make_id("payment", rec.tx_id)
        pay.add("transactionNumber", rec.tx_id)
        pay.add("payer", owner_of[rec.src])
        pay.add("beneficiary", owner_of[rec.dst])
        for prop, account in (("payerAccount", rec.src), ("beneficiaryAccount", rec.dst)):
            if account not in crypto:
                pay.add(prop, account_ids[account])
        pay.add("amount", f"{rec.amount:.2f}")
        pay.add("currency", rec.currency, quiet=True)
        pay.add("date", pd.Timestamp(rec.t, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S"))
        pay.add("purpose", rec.reference or None)
        yield pay


def write_ftm(
    transactions: pd.DataFrame,
    out: Path,
    holders: Sequence[ResolvedHolder] = (),
    findings: Sequence[Finding] = (),
) -> int:
    """Write the FtM JSON-lines stream Aleph loads (``ftm ... | aleph``); returns the entity count."""
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for entity in _entities(transactions, list(holders), list(findings)):
            data = entity.to_dict()
            data["datasets"] = [DATASET]
            fh.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def write_gexf(transactions: pd.DataFrame, out: Path, risks: Sequence[AccountRisk] = ()) -> Path:
    """Accounts as nodes (with risk and typologies), payments aggregated per ordered pair as edges."""
    import networkx as nx

    graph = nx.DiGraph()
    edges = transactions.groupby(["src", "dst"], sort=True).agg(n=("tx_id", "size"), amount=("amount_base", "sum"))
    risk = {r.account: r for r in risks}
    for account in sorted(set(transactions["src"]) | set(transactions["dst"])):
        r = risk.get(account)
        graph.add_node(
            account,
            label=account,
            risk=float(r.score) if r else 0.0,
            typologies=" ".join(t.value for t in r.typologies) if r else "",
        )
    for (src, dst), row in edges.iterrows():
        graph.add_edge(src, dst, weight=round(float(row["amount"]), 2), payments=int(row["n"]))
    nx.write_gexf(graph, out)
    return out
