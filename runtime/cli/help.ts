/** Help texts. Kept beside the commands so `--help` and the README stay in step. */
export const HELP = `statecell: state channels declared in YAML

Usage: statecell <command> [options]

Commands:
  lint FILE|DIR...          check channel files; every problem at file:line:col
  explain FILE|DIR...       a plain-English account of each channel's rules and groups
  test [FILE|DIR...]        run the channels' tests (inline and NAME.test.yaml)
  keys NAME...              print the test public key derived from each signer name
  keys new --out FILE       make a node identity: an ed25519 key file (mode 0600)
  node --config FILE [--watch DIR]
                            run one validator node (its node file: identity, listen, network, channels, data)
  up CHANNEL.yaml... [--dir DIR] [--demo]
                            a local network on 127.0.0.1, one node per validator; npm start = up --demo
  demo                      lint, explain, test the examples; a consensus round in one process
  l0 --config FILE          run the global L0 ledger of channel snapshots
  channel list|add|upgrade|remove   a running node's channels (--config node.yaml)
  transfer --key FILE --to KEY --amount N [--node URL] [--channel NAME] [--nonce N] [--fee N] [--wait]
                            sign a transfer of a channel's token with a key file and submit it
  export --node URL --channel NAME --out FILE
                            a channel's ledger as JSON Lines, for auditors
  verify FILE [CHANNEL.yaml...]
                            replay an export offline: every block, certificate, snapshot, L0 ack
  channel readiness CHANNEL.yaml
                            who approved an upgrade to this version, and whether the threshold is met
  channel approve CHANNEL.yaml --key FILE --at HEIGHT
                            a validator's approval of the upgrade, sent to L0
  help [COMMAND]            this text, or one command's

Options:
  --format text|json|markdown   output format (json for tools; markdown for explain)
  --coverage                    with test: per-rule (and per-operation) accept/reject counts
  --grep TEXT                   with test: run only the tests whose name contains TEXT
  --state                       with test: print each cell's state at the end of each test
  -h, --help                    help
  -v, --version                 version

Exit codes: 0 ok, 1 problems found or tests failed, 2 wrong usage.`;

export const COMMAND_HELP: Record<string, string> = {
  lint: `Usage: statecell lint FILE|DIR... [--format text|json]

Checks channel files against the channel language and prints every problem
with its code, file:line:col, the line with a caret, and a fix. A directory
means every channel file in it and its NAME.test.yaml files; a NAME.test.yaml
is checked against the channel NAME.yaml beside it. A code file (.js) is
checked with the channel that names it: lint says which one. Exit 1 if any
file has an error (warnings alone exit 0).`,
  explain: `Usage: statecell explain FILE|DIR... [--format text|markdown]

Prints a plain-English account of each channel for review: each group's
validators, how many must sign and how many faulty or offline validators it
tolerates; each cell's accepted data, rules, state updates, outputs and code,
and the channel's tests (inline and in NAME.test.yaml beside it). --format
markdown adds a mermaid diagram of the pipeline. A directory means every
channel file in it; a NAME.test.yaml stands for its channel. A file that does
not load is reported and the others are still explained (exit 1).`,
  test: `Usage: statecell test [FILE|DIR...] [--coverage] [--grep TEXT] [--state] [--format text|json]

Runs the tests of each channel: the inline \`tests:\` and NAME.test.yaml beside
the channel file. A NAME.test.yaml stands for its channel, so
\`statecell test channels/*.yaml\` runs each channel once. Without files, runs
the channels in ./channels.
  --coverage    counts, per rule (the cell's, then each operation's as
                cell/op/rule) and per named hook refusal, the inputs it let
                through and rejected; lists those no test rejects; and counts
                the inputs of each operation
  --grep TEXT   runs only the tests whose name contains TEXT (ignoring case);
                exit 1 when no test does
  --state       prints every cell's state where each test ended (signer keys
                as $key:NAME, long keys shortened; --format json has them whole)
A run longer than a second shows its progress on standard error (a bar on a
terminal, a plain line every 2 s otherwise). Exit 1 on failure.`,
  keys: `Usage: statecell keys NAME...
       statecell keys new --out FILE

Prints the public key that channel tests use for the signer NAME (derived
from the name, so test files can name signers instead of pasting keys). Never
use these keys outside tests.

\`keys new --out FILE\` makes a node identity: a fresh ed25519 key written to
FILE (JSON: publicKey and the private seed) with mode 0600, created
atomically; an existing FILE is never overwritten (exit 1). Prints only the
public key, for the network file.`,
  l0: `Usage: statecell l0 --config l0.yaml

Runs the global L0 ledger: checks the snapshots channels send (registered
snapshot group, threshold, hash chain, definition), answers each with a
signed acknowledgement, keeps forks as evidence and freezes the channel, and
cuts hash-chained global snapshots. l0.yaml names the identity key file
(created if missing), the listen address, the data folder and how often a
global snapshot is cut (schemas/l0.schema.json, docs/l0.md). Runs until
SIGINT or SIGTERM; what it acknowledged is on disk before it answers.`,
  transfer: `Usage: statecell transfer --key FILE --to KEY --amount N [--node URL]
                          [--channel NAME] [--nonce N] [--fee N] [--wait]

Signs a transfer of the channel's token from the account of the key file
(made by statecell keys new; ed25519) to the public key KEY, and submits it to
the built-in cell token of a node of the token's group. Prints the input's id,
then its status (pending, or committed/rejected with --wait).
  --amount N    base units as digits (1250), or whole tokens with a point and
                at most the token's decimals (12.50)
  --node URL    a node's API (default: the first node of up.json in
                $STATECELL_DIR, else .statecell/)
  --channel     the channel (default: the only one whose token the node keeps)
  --nonce N     the account's next nonce (default: asked of the node)
  --fee N       the most fee accepted, in the units of --amount: refused
                (CLI_TRANSFER_FEE) when the node's fee for it is higher
  --wait        wait until the transfer is committed or rejected (60 s)
Exit 0 pending or committed, 1 refused or rejected (its code is printed),
2 wrong usage (a bad key file, amount or account, an unknown channel).`,
  export: `Usage: statecell export --node URL [--node URL...] --channel NAME --out FILE

Writes the channel's ledger as JSON Lines (schemas/export.schema.json): a
header, the definition (the channel file's text and code), the registration
with its signatures, every cell's certified blocks, the certified snapshots,
L0's acknowledgements and an end record. URL is a node's client API (up.json
lists them). A cell the first node does not host is read from the next --node
that does (exit 1 when none does). FILE is written whole or not at all. A run
longer than a second shows its progress on standard error (a bar on a
terminal, a plain line every 2 s otherwise).`,
  verify: `Usage: statecell verify FILE [CHANNEL.yaml...] [--l0-key KEY] [--format text|json]

Replays an export offline from genesis: re-executes every block of every cell,
checks every commit certificate against the registered keys, every output a
cell consumed against the block that sent it, every snapshot's hash, link,
certificate and cell heads, and every L0 acknowledgement's signature (against
--l0-key, else the key the export names). With CHANNEL.yaml files the export's
definition must be theirs; without, the definition it carries is used. Exit 0
with a summary, or 1 naming the first divergence: FILE:LINE, the record, the
cell and height, and what differs. A run longer than a second shows its
progress on standard error (a bar on a terminal, a plain line every 2 s
otherwise; none with --format json).`,
  demo: `Usage: statecell demo

Lints, explains and tests the example channels, then runs a consensus round of
the poll's seven clerks in one process (\`npm start\` runs a real network:
statecell up --demo).`,
  node: `Usage: statecell node --config node.yaml

Runs one validator node until SIGINT or SIGTERM. node.yaml names the key file
of its validator (statecell keys new), the API and peer listen addresses, the
network file (validator names, keys, peer URLs), the channels it hosts and
its data folder (schemas/node.schema.json, docs/node.md). The node joins the
group of every hosted cell its validator belongs to, peers over authenticated
WebSockets, keeps its ledger in DATA/ledger.sqlite and serves the client API
(GET /readyz is 200 once every hosted cell has a quorum and is caught up).
Started again after a stop or kill -9, it resumes from its ledger and catches
up from its peers. Logs are JSON lines on standard output.
Exit 0 after a signal, 1 when the files do not load, 3 when a group stopped
because this node is broken (see its log).`,
  up: `Usage: statecell up CHANNEL.yaml... [--dir DIR] [--demo]

Starts, on 127.0.0.1, one node process per validator named in the channels'
groups. In DIR (default $STATECELL_DIR, else .statecell/; kept across runs, so
a second up resumes the same keys, ports and ledgers) it writes keys/NAME.key
(mode 0600), network.yaml, nodes/NAME/node.yaml, each node's data and
node.log, waits until every node is ready, prints each node's API and peer
URL, and writes up.json: { "nodes": [ { "name", "pid", "api", "peer",
"config" } ], "l0": { "pid", "api", "config" } }. It also starts an L0
(DIR/l0/l0.yaml) that every node sends its snapshots to. A node that dies is reported, not restarted: start it again
with statecell node --config CONFIG. Ctrl-C or SIGTERM stops every node.
  --demo   feed air-quality traffic over the stream and print a line per
           commit (time, cell, height, inputs, rejections) and per
           submission refused at submit (code and rule)
Exit 0 after a signal, 1 when a channel does not load or the nodes are not
ready within 180 s.`,
  channel: `Usage: statecell channel list|add|upgrade|remove ... --config node.yaml

Changes a running node's channels through its admin API, with the operator
token of the node file (or --node URL with STATECELL_ADMIN_TOKEN):

  statecell channel list    --config node.yaml
  statecell channel add     FILE --config node.yaml
  statecell channel upgrade FILE [NAME] --config node.yaml
  statecell channel remove  NAME --config node.yaml

An upgrade is built (loaded, linted, its code compiled) before the running
version stops; a file that does not load is refused with its problems and the
running version goes on. A file with \`activation: H\` is staged: the running
version commits blocks below H of every cell and every node switches at block
H (give every node the same file before its cells reach H). A node with an L0
stages it only once L0 scheduled the upgrade (statecell channel approve, below;
else NODE_UPGRADE_NOT_SCHEDULED). Without activation, this node swaps at once
(refused, NODE_UPGRADE_NEEDS_ACTIVATION, for a channel that sends snapshots to L0). \`statecell node --config node.yaml --watch DIR\`
follows a folder of channel files instead.

Usage: statecell channel readiness CHANNEL.yaml [--l0 URL | --dir DIR] [--format text|json]
       statecell channel approve CHANNEL.yaml --key FILE --at HEIGHT [--l0 URL | --dir DIR] [--format text|json]

CHANNEL.yaml is a new version of a channel. It must load: an invalid version
is refused with its lint errors (CLI_UPGRADE_INVALID, exit 1) and the version
in force keeps running. readiness shows, like Fabric's checkcommitreadiness,
every upgrade proposal to this definition that L0 holds: its snapshot height,
status, who of the snapshot group approved it, who is missing, the threshold
and whether it is met. approve signs the upgrade record (from the definition
in force at L0 to this one, from snapshot height HEIGHT on) with a
validator's key file and sends it to L0. L0 is --l0 URL, else the one
statecell up wrote in DIR/up.json (default .statecell).`,
};
