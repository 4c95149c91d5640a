"""A deterministic generator of realistic agent histories, for demos, tests and benchmarks.

``generate(path, sessions=..., seed=...)`` writes a new ``state.db`` that looks like months of use
of the agent: CLI and gateway sessions (Telegram, Discord, Slack), several models, user asks about
coding, operations, research and writing (some in Chinese or Japanese), Markdown answers with code
blocks, reasoning, tool calls with JSON arguments and their results, compression chains
(``x``, ``x #2``, ``x #3``), ended, active, interrupted and empty sessions, and token/cost totals
that agree with the messages.

Same seed and same ``now`` give the same rows, byte for byte: all randomness comes from one
``random.Random(seed)`` and the clock is never read unless the caller passes the real time.

The file is built fast: the schema comes from ``schema.migrate`` on an empty file; the per-row
insert triggers (FTS and last_active) are dropped while rows are bulk inserted in id order (ids
grow with time; messages of concurrent sessions interleave as in a real store). Each chunk of rows
is indexed by the very statements the trigger and the trigram maintenance run, one
``INSERT ... SELECT`` per index (equivalent to an FTS5 ``rebuild``), on a worker thread while the
next chunk is generated. Then the trigram window is set to cover every row (``trgm_low`` 1,
``trgm_high`` past the newest id) and the triggers are put back. The result is indistinguishable
from a database written one message at a time and fully maintained (``integrity_check`` and both
FTS5 ``integrity-check`` commands pass). With ``trigram=False`` the trigram index is left empty
(an empty window above the newest row, as ``migrate`` leaves it), for the store's maintenance to
fill later; that build takes about a third of the time.

The file is created private (0600) under a temporary name beside the target and renamed into
place only when complete, so an interrupted build never leaves a half-written database.

Cost: most of the time goes into the trigram index (roughly 25-60 µs of CPU per 100 indexed
characters, depending on the machine's load); a million messages average ~265 indexed characters.

Command line::

    python -m store.demo --sessions 2000 --out demo.db [--seed 7] [--messages-min N --messages-max M]
                         [--now-real] [--no-trigram] [--force]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import heapq
import json
import math
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from . import schema

_T = TypeVar("_T")

# 2026-11-20T12:00:00Z: the default "now", so the default output never depends on the clock.
DEFAULT_NOW = 1795176000.0
HISTORY_DAYS = 182
PRIVATE_FILE_MODE = 0o600
_DAY = 86400.0


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate`` wrote."""

    sessions: int
    messages: int
    seconds: float
    path: Path | None = None
    size_bytes: int = 0


# ── Word lists ───────────────────────────────────────────────────────────────────────────────
# Plain data. Lists earlier in a tuple are picked more often (Zipf-like weights, see _Pick), so
# the text has a few very common words and a long tail of rare ones, like real conversations.

_FUNCTION_WORDS = (
    "the", "to", "and", "a", "of", "in", "is", "it", "that", "for", "this", "on", "with", "be", "you",
    "we", "as", "not", "are", "can", "if", "but", "or", "so", "from", "at", "by", "an", "will", "all",
    "just", "then", "now", "also", "when", "there", "what", "which", "should", "would", "could", "more",
    "one", "some", "only", "into", "still", "again", "after", "before", "because", "about", "than",
)

_NOUNS = (
    "file", "error", "test", "server", "database", "config", "function", "request", "build", "cache",
    "query", "session", "container", "service", "script", "log", "module", "package", "branch", "commit",
    "index", "table", "endpoint", "token", "response", "deployment", "image", "pipeline", "dependency",
    "timeout", "user", "directory", "migration", "schema", "worker", "queue", "process", "thread",
    "memory", "latency", "port", "certificate", "domain", "proxy", "backup", "volume", "disk", "kernel",
    "model", "prompt", "dataset", "embedding", "checkpoint", "batch", "benchmark", "paper", "summary",
    "draft", "email", "report", "meeting", "invoice", "column", "row", "key", "value", "socket", "node",
    "cluster", "pod", "namespace", "secret", "variable", "argument", "parameter", "callback", "handler",
    "router", "component", "template", "layout", "stylesheet", "widget", "parser", "tokenizer", "lexer",
    "compiler", "interpreter", "runtime", "heap", "stack", "pointer", "buffer", "stream", "channel",
    "transaction", "lock", "replica", "shard", "partition", "snapshot", "webhook", "cron", "scheduler",
    "metric", "dashboard", "alert", "incident", "runbook", "firewall", "gateway", "load balancer",
    "accuracy", "gradient", "epoch", "loss curve", "learning rate", "tensor", "attention", "context window",
    "citation", "abstract", "outline", "paragraph", "headline", "newsletter", "proposal", "contract",
    "changelog", "release", "tag", "fixture", "mock", "assertion", "coverage", "linter", "formatter",
    "manifest", "registry", "artifact", "bucket", "object store", "quota", "rate limit", "retry",
)

_VERBS = (
    "fix", "check", "add", "run", "update", "remove", "debug", "deploy", "write", "test", "build", "find",
    "refactor", "restart", "install", "configure", "review", "explain", "summarize", "compare",
    "migrate", "optimize", "rename", "split", "merge", "rebase", "revert", "profile", "benchmark",
    "translate", "draft", "rewrite", "document", "validate", "parse", "serialize", "cache", "index",
    "monitor", "rotate", "back up", "restore", "upgrade", "downgrade", "pin", "patch", "vendor", "lint",
    "format", "type-check", "bisect", "reproduce", "investigate", "clean up", "simplify", "inline",
)

_ADJECTIVES = (
    "new", "old", "slow", "broken", "failing", "missing", "flaky", "large", "small", "default", "async",
    "duplicate", "stale", "nested", "optional", "custom", "internal", "public", "private", "idle",
    "expired", "corrupted", "unused", "legacy", "experimental", "deprecated", "readonly", "concurrent",
    "incremental", "recursive", "idempotent", "deterministic", "noisy", "intermittent", "silent",
    "verbose", "cold", "warm", "empty", "partial", "orphaned", "dangling", "unbounded", "lazy", "eager",
)

_RARE_REAL = (
    "heisenbug", "backpressure", "quiescent", "monotonic", "linearizable", "bikeshedding",
    "serendipity", "thundering herd", "split-brain", "head-of-line", "copy-on-write", "write-ahead",
    "tombstone", "vacuum", "hyperparameter", "quantization", "distillation", "perplexity",
    "tokenization", "speculative decoding", "mixture-of-experts", "retrieval-augmented", "sharding",
    "memoization", "debounce", "throttling", "hydration", "tree-shaking", "monorepo", "polyfill",
    "zeroconf", "anycast", "multicast", "jitter", "exponential backoff", "circuit breaker",
    "flamegraph", "syscall", "epoll", "io_uring", "cgroup", "seccomp", "apparmor", "selinux",
    "checksum", "merkle", "bloom filter", "skiplist", "trie", "b-tree", "lsm-tree", "rope", "arena",
)

_TECH = (
    "docker", "python", "postgres", "kubernetes", "nginx", "redis", "git", "node", "react", "sqlite",
    "typescript", "rust", "go", "terraform", "ansible", "systemd", "github actions", "aws", "gcp",
    "cloudflare", "fastapi", "django", "flask", "pytest", "numpy", "pandas", "pytorch", "jax", "vllm",
    "llama.cpp", "ollama", "textual", "rich", "celery", "kafka", "rabbitmq", "elasticsearch", "grafana",
    "prometheus", "helm", "argocd", "vite", "webpack", "nextjs", "tailwind", "prisma", "sqlalchemy",
    "alembic", "poetry", "uv", "ruff", "mypy", "black", "eslint", "prettier", "bun", "deno", "zig",
    "wireguard", "tailscale", "caddy", "traefik", "certbot", "letsencrypt", "s3", "minio", "duckdb",
)

_PROJECTS = (
    "my-app", "hermes-agent", "api-gateway", "billing-service", "web-frontend", "data-pipeline",
    "auth-proxy", "ml-training", "docs-site", "mobile-app", "infra-live", "search-indexer",
    "chat-bot", "home-lab", "blog-engine", "metrics-collector", "image-resizer", "payment-worker",
    "notification-hub", "feature-flags", "user-service", "etl-jobs", "rag-demo", "eval-harness",
    "discord-relay", "telegram-bridge", "slack-notifier", "static-site", "cli-tools", "dotfiles",
)

_FILES = (
    "my-app.config.ts", "docker-compose.yml", "pyproject.toml", "package.json", "README.md",
    "main.py", "app.py", "run_agent.py", "settings.py", "models.py", "views.py", "utils.py",
    "index.ts", "server.ts", "vite.config.ts", "tsconfig.json", "Cargo.toml", "main.rs", "lib.rs",
    "go.mod", "main.go", "Makefile", "Dockerfile", ".env.example", "nginx.conf", "config.yaml",
    "values.yaml", "deployment.yaml", "ci.yml", "requirements.txt", "setup.cfg", "alembic.ini",
    "schema.sql", "test_api.py", "conftest.py", "webpack.config.js", "next.config.mjs", "tailwind.config.js",
    "hermes_state.py", "web_tools.py", "terminal_tool.py", "gateway.py", "session-store.ts",
    "k8s-ingress.yaml",
)

_DIRS = (
    "src", "app", "lib", "tests", "scripts", "config", "deploy", "k8s", "docs", "tools", "gateway",
    "services/api", "packages/core", "internal/server", "cmd/worker", ".github/workflows", "infra",
)

_PEOPLE = (
    "alice", "bob", "carol", "dmitri", "mei", "hiroshi", "priya", "olu", "sofia", "li.wei", "tanaka",
    "maria.garcia", "james", "fatima", "noah", "yuki", "chen.jing", "arjun", "lena", "tomasz", "amara",
)

_DOMAINS = ("example.com", "acme.io", "nousresearch.com", "mail.example.org", "corp.internal", "gmail.com")

_HOSTS = (
    "prod-web-01", "prod-web-02", "db-primary", "db-replica-1", "build-runner", "staging-api",
    "gpu-node-3", "edge-proxy", "vps-fra1", "raspberrypi", "homelab-nas", "k3s-master",
)

_PY_MODULES = (
    "os", "json", "sqlite3", "asyncio", "pathlib", "subprocess", "logging", "re", "typing", "datetime",
    "httpx", "requests", "pydantic", "fastapi", "numpy", "pandas", "torch", "yaml", "rich", "click",
)

_ERRORS = (
    "ModuleNotFoundError: No module named '{mod}'",
    "ECONNREFUSED 127.0.0.1:{port}",
    "permission denied (publickey)",
    "OOMKilled",
    "Segmentation fault (core dumped)",
    "TypeError: Cannot read properties of undefined (reading '{noun}')",
    "HTTP 502 Bad Gateway",
    "sqlite3.OperationalError: database is locked",
    "CrashLoopBackOff",
    "error[E0382]: borrow of moved value: `{ident}`",
    "KeyError: '{ident}'",
    "fatal: refusing to merge unrelated histories",
    "x509: certificate has expired or is not yet valid",
    "CUDA out of memory. Tried to allocate 2.00 GiB",
    "npm ERR! ERESOLVE unable to resolve dependency tree",
    "AssertionError: expected 200, got 500",
    "TimeoutError: operation timed out after 30s",
    "ImportError: cannot import name '{ident}' from '{mod}'",
    "psycopg.errors.UniqueViolation: duplicate key value violates unique constraint",
    "java.lang.NullPointerException",
    "panic: runtime error: index out of range [3] with length 3",
)

_COMMANDS = (
    "docker compose up -d --build",
    "docker logs --tail 200 {svc}",
    "kubectl get pods -n {ns}",
    "kubectl rollout restart deployment/{svc} -n {ns}",
    "git rebase -i HEAD~3",
    "git log --oneline -n 20",
    "pytest -x -q tests/",
    "npm run build",
    "systemctl restart {svc}",
    "journalctl -u {svc} --since '1 hour ago'",
    "pip install {mod}=={ver}",
    "uv sync",
    "cargo build --release",
    "go test ./...",
    "terraform plan -out=tfplan",
    "ssh {host} 'df -h'",
    "curl -sS https://{proj}.example.com/healthz",
    "python -m {mod} --help",
    "ruff check --fix .",
    "sqlite3 ~/.hermes/state.db 'PRAGMA integrity_check'",
    "rsync -avz ./dist/ {host}:/var/www/{proj}/",
    "openssl s_client -connect {proj}.example.com:443",
)

_TOPICS_RESEARCH = (
    "retrieval-augmented generation", "mixture-of-experts routing", "speculative decoding",
    "RLHF reward hacking", "long-context evaluation", "KV cache compression", "tool-use benchmarks",
    "small language models on edge devices", "vector database performance", "diffusion transformers",
    "protein structure prediction", "carbon capture costs", "battery chemistry", "fusion energy timelines",
    "remote work productivity", "urban heat islands", "sleep and memory consolidation",
    "the history of the printing press", "Rust adoption in the Linux kernel", "SQLite FTS5 ranking",
)

_WRITING_KINDS = (
    "blog post", "cover letter", "project update", "release notes", "thank-you note", "talk abstract",
    "product description", "tweet thread", "README section", "incident postmortem", "grant proposal",
)

_ZH_NOUNS = (
    "数据库", "服务器", "部署", "性能优化", "缓存", "机器学习", "论文", "日志", "配置文件", "接口", "前端",
    "后端", "测试用例", "内存泄漏", "索引", "搜索", "模型", "数据集", "容器", "网络", "证书", "权限",
    "脚本", "错误", "文档", "用户", "会话", "任务", "队列", "代码", "函数", "变量", "依赖", "版本",
)

_ZH_VERBS = ("修改", "检查", "优化", "部署", "总结", "翻译", "重构", "调试", "安装", "配置", "分析", "解释")

_ZH_CLAUSES = (
    "运行的时候一直报错", "速度特别慢", "不知道哪里出了问题", "昨天还是好的", "升级以后就不能用了",
    "内存占用越来越高", "日志里没有任何信息", "重启以后还是一样", "能不能给我一个例子", "最好写成脚本",
    "请用中文回答", "谢谢", "尽量简单一点", "需要支持并发", "要兼容旧版本",
)

_JA_NOUNS = (
    "データベース", "サーバー", "設定ファイル", "テスト", "デプロイ", "キャッシュ", "ログ", "翻訳", "要約",
    "論文", "性能", "関数", "エラー", "環境変数", "依存関係", "検索", "インデックス", "メモリ", "証明書",
)

_JA_CLAUSES = (
    "を修正してください", "の原因を教えてください", "について簡単にまとめてください", "がうまく動きません",
    "を確認してもらえますか", "の設定方法を教えて", "を英語に翻訳してください", "を高速化したいです",
)

_SOURCES = (("cli", 62), ("telegram", 18), ("discord", 12), ("slack", 8))

# (model, weight, provider, base_url, billing_mode, prices per 1M tokens: in, out, cache read, cache write)
_MODELS: tuple[tuple[str, int, str, str, str, tuple[float, float, float, float]], ...] = (
    ("anthropic/claude-sonnet-4", 26, "openrouter", "https://openrouter.ai/api/v1", "api",
     (3.0, 15.0, 0.3, 3.75)),
    ("anthropic/claude-sonnet-4", 8, "anthropic", "https://api.anthropic.com", "api",
     (3.0, 15.0, 0.3, 3.75)),
    ("anthropic/claude-opus-4.1", 5, "openrouter", "https://openrouter.ai/api/v1", "api",
     (15.0, 75.0, 1.5, 18.75)),
    ("openai/gpt-5", 14, "openrouter", "https://openrouter.ai/api/v1", "api", (1.25, 10.0, 0.125, 0.0)),
    ("openai/gpt-5-mini", 6, "openai", "https://api.openai.com/v1", "api", (0.25, 2.0, 0.025, 0.0)),
    ("nous/hermes-4-405b", 12, "nous", "https://inference-api.nousresearch.com/v1", "subscription",
     (1.0, 3.0, 0.0, 0.0)),
    ("nous/hermes-4-70b", 6, "nous", "https://inference-api.nousresearch.com/v1", "subscription",
     (0.13, 0.4, 0.0, 0.0)),
    ("google/gemini-2.5-pro", 9, "openrouter", "https://openrouter.ai/api/v1", "api",
     (1.25, 10.0, 0.31, 0.0)),
    ("google/gemini-2.5-flash", 5, "openrouter", "https://openrouter.ai/api/v1", "api",
     (0.3, 2.5, 0.075, 0.0)),
    ("deepseek/deepseek-chat-v3.1", 4, "openrouter", "https://openrouter.ai/api/v1", "api",
     (0.27, 1.1, 0.07, 0.0)),
    ("moonshotai/kimi-k2", 3, "openrouter", "https://openrouter.ai/api/v1", "api", (0.6, 2.5, 0.15, 0.0)),
    ("qwen3-coder:30b", 2, "custom", "http://localhost:11434/v1", "local", (0.0, 0.0, 0.0, 0.0)),
)
_REASONING_MODELS = ("claude", "gpt-5", "hermes-4", "gemini-2.5", "deepseek", "qwen3")

_CATEGORIES = (("coding", 40), ("ops", 24), ("research", 16), ("writing", 12), ("misc", 8))

# Tool mix by category, and the chance that a turn uses tools at all.
_TOOLS_BY_CATEGORY: dict[str, tuple[tuple[str, int], ...]] = {
    "coding": (("read_file", 30), ("terminal", 30), ("search_files", 14), ("patch", 14), ("write_file", 8),
               ("execute_code", 4)),
    "ops": (("terminal", 60), ("read_file", 14), ("web_search", 10), ("search_files", 6), ("write_file", 5),
            ("patch", 5)),
    "research": (("web_search", 44), ("web_extract", 24), ("browser_navigate", 14), ("browser_snapshot", 6),
                 ("write_file", 6), ("memory", 6)),
    "writing": (("read_file", 22), ("write_file", 30), ("web_search", 20), ("memory", 12),
                ("send_message", 8), ("todo", 8)),
    "misc": (("web_search", 46), ("memory", 20), ("todo", 14), ("vision_analyze", 10), ("image_generate", 6),
             ("browser_navigate", 4)),
}
_TOOL_TURN_CHANCE = {"coding": 0.78, "ops": 0.85, "research": 0.72, "writing": 0.4, "misc": 0.35}



def _weighted(pairs: Sequence[tuple[str, int]]) -> tuple[str, ...]:
    """A tuple in which each item appears ``weight`` times: a uniform pick is a weighted pick."""
    return tuple(item for item, weight in pairs for _ in range(weight))


def _zipf(items: Sequence[str], top: int = 16) -> tuple[str, ...]:
    """Items repeated so that a uniform pick falls off like 1/rank: a few common, a long rare tail."""
    return tuple(item for i, item in enumerate(items) for _ in range(max(1, round(top * 3 / (i + 3)))))


def _pseudo_words(count: int) -> list[str]:
    """Pronounceable made-up words (codenames, hosts, products): the rare tail of the vocabulary."""
    rng = random.Random(20240611)  # fixed: part of the vocabulary, not of a seed's content
    onsets = ("b", "br", "c", "ch", "d", "f", "g", "gl", "h", "k", "l", "m", "n", "p", "pr", "qu", "r", "s",
              "sh", "st", "t", "tr", "v", "w", "z")
    vowels = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y")
    codas = ("", "", "n", "r", "s", "l", "th", "x", "nd", "st", "m", "k")
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3)))
        word += rng.choice(codas)
        if len(word) >= 4 and word not in seen:
            seen.add(word)
            out.append(word)
    return out


_MADE_UP = tuple(_pseudo_words(6000))
_SENTENCE_TEMPLATES = (
    "I checked {entity} and the {noun} is {adj}.",
    "This happens because the {noun} is {adj} when {tech} starts.",
    "You can {verb} the {noun} with `{command}`.",
    "The fix is to {verb} the {adj} {noun} before the {noun2} runs.",
    "Next, {verb} the {noun} and run the tests again.",
    "I found {num} {noun}s that are {adj}.",
    "Note that {tech} {version} changed how the {noun} works.",
    "If the {noun} is still {adj}, {verb} it by hand.",
    "The {noun} and the {noun2} both depend on {entity}.",
    "According to {url}, the {noun} {words}.",
    "It looks like {entity} is {adj} because {words}.",
    "We should {verb} the {noun} before {words}.",
    "{tech} uses a {adj} {noun} for {words}.",
    "After the {noun} {words}, the {noun2} was {adj}.",
    "See {entity} and {entity} for details.",
    "The {adj} {noun} {words}.",
    "There are {num} {adj} {noun}s in {path}.",
    "Set the {noun} to {num} and {verb} the {noun2}.",
    "The error `{error}` means the {noun} is {adj}.",
    "I would {verb} the {noun} first, then {verb} the {noun2}.",
    "Most of the time goes into the {noun}; the {noun2} is {adj}.",
    "Both {tech} and {tech2} can {verb} a {noun}, but {words}.",
    "Ask {email} about the {adj} {noun}.",
    "The {noun} in {file} is {adj} and {words}.",
    "Keep the {noun} {adj}; otherwise {words}.",
)
_CITIES = ("Berlin", "Tokyo", "Lagos", "Austin", "São Paulo", "Toronto", "Shenzhen", "Pune", "Kraków")
_SHORT_REPLIES = (
    "yes, go ahead", "ok do it", "thanks! that worked", "can you also add tests?",
    "hmm that didn't work, same error", "looks good, commit it", "wait, don't touch prod", "continue",
    "now summarize what you changed", "try again with the --verbose flag",
    "perfect. one more thing: update the changelog", "no, revert that", "what about windows?",
)
_USER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "coding": (
        "Can you refactor {path} so that {ident} handles {adj} {noun}s? "
        "I get `{error}` when I run `{command}`.",
        "Add a test for {ident} in {path}. It should cover the {adj} {noun} case.",
        "Why does {ident} in {file} return None when the {noun} is {adj}?",
        "Please rename {ident} to {ident2} across {project} and fix the imports.",
        "Write a {tech} script that reads {path} and prints every {noun} with its {noun2}.",
        "The build of {project} fails after upgrading {tech} to {version}: {error}",
        "Review my PR {url} and point out anything {adj}.",
        "Port {file} from {tech} to {tech2}, keep the public API the same.",
    ),
    "ops": (
        "The {project} deployment on {host} keeps failing with `{error}`. "
        "Check the logs at {path} and fix it.",
        "Disk on {host} is almost full, find what is using the space and clean up old {noun}s.",
        "Set up a cron job on {host} to back up {path} every night and email {email} on failure.",
        "Renew the TLS certificate for {project}.example.com, it expires tomorrow.",
        "Why is {tech} on {host} using so much memory? `{command}` shows it growing.",
        "Upgrade {tech} on {host} to {version} without downtime.",
        "Is {url} down for everyone or just me?",
    ),
    "research": (
        "Find recent papers about {topic} and summarize the key results.",
        "What is the current state of {topic}? Give me sources.",
        "Compare {tech} and {tech2} for {noun} workloads, with benchmarks if you can find them.",
        "Read {url} and tell me if it is relevant to {topic}.",
        "Explain {rare} like I'm a new engineer, with an example.",
        "Collect the main arguments for and against {topic} in a table.",
    ),
    "writing": (
        "Draft a {kind} about {project} for {email}, keep it under 200 words.",
        "Rewrite this {kind} so it sounds less formal: {sentence}",
        "Write a {kind} announcing {project} {version}. Mention the {adj} {noun} fix.",
        "Proofread my {kind} and suggest a better title.",
        "Turn these notes into a {kind}: {sentence} {sentence2}",
    ),
    "misc": (
        "Remind me tomorrow at 9 to {verb} the {noun}.",
        "What's a good name for a {adj} {noun} tool?",
        "Remember that my preferred editor is {tech} and I use {tech2} at work.",
        "What's the weather like in {city} this weekend?",
        "Make a todo list for moving {project} to {tech}.",
        "How do I say '{sentence}' in Japanese?",
    ),
}


def _clamp(value: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, value))


class _Slots(dict[str, str]):
    """``str.format_map`` mapping that makes each field only when a template asks for it."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> str:
        return self.makers[key]()


# ── Text ─────────────────────────────────────────────────────────────────────────────────────


class _Text:
    """Builds every string from one seeded ``random.Random``.

    Sentences, code lines, log lines, paths, URLs and the like are composed word by word into
    pools sized to the build (so a big build has a big, varied vocabulary of phrases); messages
    are then assembled from pool entries, templates and fresh numbers. That keeps generation at
    a few tens of µs per message while term frequencies stay natural (Zipf-like words, a rare
    tail, hyphenated names, paths, URLs, emails, versions, CJK).
    """

    def __init__(self, rng: random.Random, scale: int) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.w_fw = _zipf(_FUNCTION_WORDS, 30)
        self.w_noun = _zipf(_NOUNS)
        self.w_verb = _zipf(_VERBS)
        self.w_adj = _zipf(_ADJECTIVES)
        self.w_rare = _zipf(_RARE_REAL, 4)
        self.w_made_up = _zipf(_MADE_UP, 4)
        self.w_tech = _zipf(_TECH)
        self.w_project = _zipf(_PROJECTS)
        self.w_file = _zipf(_FILES)
        self.w_dir = _zipf(_DIRS)
        self.w_person = _zipf(_PEOPLE)
        self.w_host = _zipf(_HOSTS)
        self.w_pymod = _zipf(_PY_MODULES)
        self.w_topic = _zipf(_TOPICS_RESEARCH)
        self.w_kind = _zipf(_WRITING_KINDS)
        self.w_zh_noun = _zipf(_ZH_NOUNS)
        self.w_zh_verb = _zipf(_ZH_VERBS)
        self.w_zh_clause = _zipf(_ZH_CLAUSES)
        self.w_ja_noun = _zipf(_JA_NOUNS)
        self.w_ja_clause = _zipf(_JA_CLAUSES)
        # Filler words: function words dominate, then common nouns/verbs, then the rare tail.
        self.w_bag = (*self.w_fw, *self.w_fw, *self.w_fw, *self.w_noun, *self.w_verb, *self.w_adj,
                      *self.w_tech, *self.w_rare)

        n = _clamp(scale * 2, 2500, 120_000)
        small = _clamp(scale // 3, 300, 12_000)
        self.idents = [self._make_ident() for _ in range(small)]
        self.paths = [self._make_path() for _ in range(small)]
        self.urls = [self._make_url() for _ in range(small)]
        self.emails = [f"{self.pick(self.w_person)}@{self.pick(_DOMAINS)}" for _ in range(small // 4 + 20)]
        self.errors = [self._make_error() for _ in range(small)]
        self.commands = [self._make_command() for _ in range(small)]
        self.makers: dict[str, Callable[[], str]] = {
            "path": self.path, "ident": self.ident, "ident2": self.ident, "error": self.error,
            "command": self.command, "file": lambda: self.pick(self.w_file),
            "project": lambda: self.pick(self.w_project), "tech": lambda: self.pick(self.w_tech),
            "tech2": lambda: self.pick(self.w_tech), "version": self.version, "url": self.url,
            "host": lambda: self.pick(self.w_host), "email": self.email,
            "topic": lambda: self.pick(self.w_topic),
            "rare": lambda: self.pick(self.w_rare), "kind": lambda: self.pick(self.w_kind),
            "sentence": self.sentence, "sentence2": self.sentence, "verb": lambda: self.pick(self.w_verb),
            "noun": lambda: self.pick(self.w_noun), "noun2": lambda: self.pick(self.w_noun),
            "adj": lambda: self.pick(self.w_adj), "city": lambda: self.pick(_CITIES),
            "num": lambda: str(self.between(2, 40)), "entity": self._entity_fresh,
            "words": lambda: self._words(self.between(3, 8)),
        }
        self.sentences = [self._make_sentence() for _ in range(n)]
        self.zh = [self._make_zh() for _ in range(n // 8)]
        self.ja = [self._make_ja() for _ in range(n // 12)]
        self.code_lines = [self._make_code_line() for _ in range(n // 2)]
        self.log_lines = [self._make_log_line() for _ in range(n // 2)]

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rnd() * len(seq))]

    def some(self, seq: Sequence[str], k: int) -> list[str]:
        return self.rng.choices(seq, k=k)

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.rnd() * (hi - lo + 1))

    # Pool makers (word by word; run once per pool entry) --------------------------------------

    def _make_ident(self) -> str:
        r = self.rnd()
        noun = self.pick(self.w_noun).replace(" ", "_")
        if r < 0.55:
            verb = self.pick(self.w_verb).replace(" ", "_").replace("-", "_")
            return f"{verb}_{noun}"
        if r < 0.8:
            return noun
        return f"{self.pick(self.w_made_up)}_{noun}"

    def _make_path(self) -> str:
        r = self.rnd()
        f = self.pick(self.w_file)
        if r < 0.45:
            return f"{self.pick(self.w_dir)}/{f}"
        if r < 0.7:
            return f"~/projects/{self.pick(self.w_project)}/{self.pick(self.w_dir)}/{f}"
        if r < 0.85:
            return f"/home/{self.pick(self.w_person).split('.')[0]}/{self.pick(self.w_project)}/{f}"
        return self.pick((
            "/etc/nginx/nginx.conf", "/var/log/syslog", "~/.hermes/config.yaml", "/etc/hosts",
            "/var/lib/postgresql/data/postgresql.conf", "~/.ssh/config", "/etc/systemd/system/app.service",
            "~/.hermes/state.db", "/tmp/build.log", "C:\\Users\\dev\\AppData\\Roaming\\npm\\npm.cmd",
        ))

    def _make_url(self) -> str:
        r = self.rnd()
        b = self.between
        if r < 0.25:
            who = self.pick(self.w_person).split(".")[0]
            return f"https://github.com/{who}/{self.pick(self.w_project)}/issues/{b(1, 9000)}"
        if r < 0.4:
            return f"https://docs.python.org/3/library/{self.pick(self.w_pymod)}.html"
        if r < 0.55:
            return f"https://arxiv.org/abs/2{b(3, 6)}{b(1, 12):02d}.{b(1000, 29999):05d}"
        if r < 0.7:
            return f"https://stackoverflow.com/questions/{b(1000000, 79999999)}"
        if r < 0.85:
            noun = self.pick(self.w_noun).replace(" ", "-")
            return f"https://{self.pick(self.w_project)}.example.com/api/v{b(1, 3)}/{noun}s"
        return f"https://en.wikipedia.org/wiki/{self.pick(self.w_rare).replace(' ', '_').capitalize()}"

    def _make_error(self) -> str:
        return self.pick(_ERRORS).format(
            mod=self.pick(self.w_pymod), port=self.pick(("5432", "6379", "8000", "8080", "3000")),
            noun=self.pick(self.w_noun).split()[0], ident=self._make_ident())

    def _make_command(self) -> str:
        return self.pick(_COMMANDS).format(
            svc=self.pick(self.w_project), ns=self.pick(("default", "prod", "staging")),
            mod=self.pick(self.w_pymod), ver=self.version().lstrip("v"), host=self.pick(self.w_host),
            proj=self.pick(self.w_project))

    def _words(self, k: int) -> str:
        words = self.some(self.w_bag, k)
        for i in range(k):  # about one word in 25 comes from the long made-up tail
            if self.rnd() < 0.04:
                words[i] = self.pick(self.w_made_up)
        return " ".join(words)

    def _entity_fresh(self) -> str:
        r = self.rnd()
        if r < 0.25:
            return f"`{self._make_path()}`"
        if r < 0.4:
            return self._make_url()
        if r < 0.5:
            return f"{self.pick(self.w_person)}@{self.pick(_DOMAINS)}"
        if r < 0.65:
            return f"{self.pick(self.w_tech)} {self.version()}"
        if r < 0.8:
            return f"`{self.pick(self.w_file)}`"
        if r < 0.9:
            return self.pick(self.w_project)
        return self.pick(self.w_made_up)

    def _make_sentence(self) -> str:
        if self.rnd() < 0.78:
            s = self.pick(_SENTENCE_TEMPLATES).format_map(_Slots(self.makers))
        else:
            s = self._words(self.between(5, 14))
            s += "." if self.rnd() < 0.9 else self.pick(("?", "!", ":"))
        return s[0].upper() + s[1:]

    def _make_zh(self) -> str:
        r = self.rnd()
        p = self.pick
        if r < 0.3:
            return f"{p(self.w_zh_verb)}{p(self.w_zh_noun)}的时候，{p(self.w_zh_noun)}{p(self.w_zh_clause)}。"
        if r < 0.55:
            return (f"建议先{p(self.w_zh_verb)}{p(self.w_zh_noun)}，"
                    f"然后再{p(self.w_zh_verb)}{p(self.w_zh_noun)}。")
        if r < 0.75:
            return (f"这个{p(self.w_zh_noun)}和{p(self.w_tech)}的{p(self.w_zh_noun)}有关，"
                    f"{p(self.w_zh_clause)}。")
        return f"{p(self.w_zh_noun)}{p(self.w_zh_noun)}{p(self.w_zh_clause)}。"

    def _make_ja(self) -> str:
        r = self.rnd()
        p = self.pick
        if r < 0.4:
            return f"{p(self.w_ja_noun)}{p(self.w_ja_clause)}。"
        if r < 0.7:
            return (f"{p(self.w_tech)}の{p(self.w_ja_noun)}が原因だと思います。"
                    f"まず{p(self.w_ja_noun)}を確認しましょう。")
        return f"{p(self.w_ja_noun)}と{p(self.w_ja_noun)}の設定を見直すと改善します。"

    def _make_code_line(self) -> str:
        r = self.rnd()
        p = self.pick
        var = self._make_ident()
        if r < 0.3:
            return f"    {var} = {p(self.w_pymod)}.{self._make_ident()}({p(self.w_noun).split()[0]})"
        if r < 0.45:
            return f'    if not {var}:\n        raise ValueError("{p(self.w_adj)} {p(self.w_noun)}")'
        if r < 0.6:
            call = f"{self._make_ident()}(item, timeout={self.between(1, 60)})"
            return f"    for item in {var}:\n        {call}"
        if r < 0.72:
            return f"    # {self._make_sentence()}"
        if r < 0.85:
            return f'    log.info("{p(self.w_verb)} %s", {var})'
        kind = p(("int", "str", "dict[str, Any]", "list[Path]", "bool"))
        return f"    {var}: {kind} = {self.between(0, 500)}"

    def _make_log_line(self) -> str:
        r = self.rnd()
        b = self.between
        if r < 0.45:
            level = self.pick(("INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"))
            stamp = f"2026-{b(5, 11):02d}-{b(1, 28):02d}T{b(0, 23):02d}:{b(0, 59):02d}:{b(0, 59):02d}Z"
            return f"{stamp} {level} {self.pick(self.w_project)} {self._words(b(3, 10))}"
        if r < 0.65:
            status = self.pick(("PASSED", "PASSED", "PASSED", "FAILED", "SKIPPED"))
            return f"tests/test_{self._make_ident()}.py::test_{self._make_ident()} {status}"
        if r < 0.8:
            return f"{self._make_path()}:{b(1, 900)}: {self._words(b(3, 9))}"
        return self._words(b(2, 12))

    # Cheap accessors used per message -------------------------------------------------------

    def ident(self) -> str:
        return self.pick(self.idents)

    def path(self) -> str:
        return self.pick(self.paths)

    def url(self) -> str:
        return self.pick(self.urls)

    def email(self) -> str:
        return self.pick(self.emails)

    def error(self) -> str:
        return self.pick(self.errors)

    def command(self) -> str:
        return self.pick(self.commands)

    def sentence(self) -> str:
        return self.pick(self.sentences)

    def version(self) -> str:
        b = self.between
        r = self.rnd()
        if r < 0.5:
            return f"{b(0, 4)}.{b(0, 30)}.{b(0, 12)}"
        if r < 0.7:
            return f"v{b(1, 9)}.{b(0, 20)}.{b(0, 9)}"
        if r < 0.85:
            return f"3.{b(9, 13)}.{b(0, 9)}"
        return f"{b(1, 4)}.{b(0, 9)}.0-rc.{b(1, 4)}"

    def paragraph(self, k: int) -> str:
        return " ".join(self.some(self.sentences, k))

    def cjk(self, lang: str, k: int) -> str:
        return "".join(self.some(self.zh if lang == "zh" else self.ja, k))

    def python_code(self, lines: int) -> str:
        head = f"def {self.ident()}({self.pick(self.w_noun).split()[0]}: str, *, retries: int = 3) -> dict:"
        imports = f"import {self.pick(self.w_pymod)}\n\n\n" if self.rnd() < 0.5 else ""
        return f"{imports}{head}\n" + "\n".join(self.some(self.code_lines, lines)) + "\n    return result"

    def code_block(self) -> str:
        r = self.rnd()
        if r < 0.5:
            return f"```python\n{self.python_code(self.between(2, 9))}\n```"
        if r < 0.82:
            return "```bash\n" + "\n".join(self.some(self.commands, self.between(1, 4))) + "\n```"
        deps = ", ".join(f'"{self.pick(self.w_tech).replace(" ", "-")}": "^{self.version().lstrip("v")}"'
                         for _ in range(self.between(1, 3)))
        return (f'```json\n{{\n  "name": "{self.pick(self.w_project)}",\n  "version": '
                f'"{self.version().lstrip("v")}",\n  "dependencies": {{{deps}}}\n}}\n```')

    # Messages ---------------------------------------------------------------------------------

    def user_ask(self, category: str, lang: str, first: bool) -> str:
        r = self.rnd()
        p = self.pick
        if lang == "zh":
            if r < 0.2:  # Latin glued to CJK, as people type it
                s = (f"修改{p(self.w_project).split('-')[0]}服务端的{p(self.w_zh_noun)}，"
                     f"让它支持{p(self.w_zh_noun)}")
            elif r < 0.4:
                s = f"帮我看一下{self.path()}里的{p(self.w_zh_noun)}问题，{p(self.w_zh_clause)}"
            elif r < 0.55:
                s = f"为什么`{self.command()}`会报错？错误信息是：{self.error()}"
            elif r < 0.7:
                s = (f"总结一下关于{p(self.w_zh_noun)}的最新进展，"
                     f"重点关注{p(self.w_zh_noun)}和{p(self.w_zh_noun)}")
            elif r < 0.85:
                s = f"请把这段话翻译成英文：{self.cjk('zh', 1)}"
            else:
                s = (f"{p(self.w_zh_verb)}一下{p(self.w_tech)} {self.version()}的{p(self.w_zh_noun)}，"
                     f"{p(self.w_zh_clause)}")
            return s + ("。" if self.rnd() < 0.6 else "") + (self.cjk("zh", 1) if self.rnd() < 0.4 else "")
        if lang == "ja":
            if r < 0.35:
                s = f"{p(self.w_file)}の{p(self.w_ja_noun)}{p(self.w_ja_clause)}。"
            elif r < 0.6:
                s = f"このエラーの原因を教えてください：{self.error()}"
            elif r < 0.8:
                s = f"{p(self.w_ja_noun)}について簡単にまとめてください。参考：{self.url()}"
            else:
                s = f"{p(self.w_tech)}で{p(self.w_ja_noun)}{p(self.w_ja_clause)}。"
            return s + (self.cjk("ja", 1) if self.rnd() < 0.4 else "")
        if not first and r < 0.35:
            return p(_SHORT_REPLIES) + ("" if self.rnd() < 0.6 else " " + self.sentence())
        text = p(_USER_TEMPLATES[category]).format_map(_Slots(self.makers))
        x = self.rnd()
        if x < 0.25:
            text += " " + self.sentence()
        elif x < 0.32:  # a pasted traceback or log excerpt
            pasted = "\n".join(self.some(self.log_lines, self.between(2, 8)))
            text += f"\n\n```\n{pasted}\n{self.error()}\n```"
        return text

    def summary_message(self) -> str:
        return (
            "[CONTEXT COMPACTION] Earlier turns of this conversation were compressed. Summary: "
            + self.paragraph(self.between(2, 4))
            + f" Files touched: {self.path()}, {self.path()}. Open items: {self.sentence()}"
        )

    def assistant_answer(self, lang: str, finish: str) -> str:
        if finish == "error":
            return self.pick((
                "API call failed after 3 retries: 529 Overloaded",
                "Error: the provider returned an empty response.",
                "Request failed: 400 context_length_exceeded",
            ))
        r = self.rnd()
        if r < 0.7:
            target = self.between(40, 240)
        elif r < 0.97:
            target = self.between(240, 600)
        else:
            target = self.between(600, 1600)
        parts: list[str] = []
        size = 0
        cjk = lang in ("zh", "ja")
        while size < target:
            k = self.rnd()
            if cjk and k < 0.45:
                block = self.cjk(lang, self.between(1, 4))
            elif k < 0.42 or not parts:
                block = self.paragraph(self.between(1, 3))
            elif k < 0.54:
                block = (f"## {self.pick(self.w_verb).capitalize()} the {self.pick(self.w_noun)}" if not cjk
                         else f"## {self.pick(self.w_zh_noun if lang == 'zh' else self.w_ja_noun)}")
            elif k < 0.74:
                bullet = "-" if self.rnd() < 0.6 else "1."
                block = "\n".join(f"{bullet} {s}" for s in self.some(self.sentences, self.between(2, 5)))
            elif k < 0.9:
                block = self.code_block()
            elif k < 0.95:
                block = f"> {self.sentence()}"
            else:
                rows = [f"| {self.pick(self.w_noun)} | {self.pick(self.w_noun)} |", "|---|---|"]
                rows += [f"| {self.pick(self.w_tech)} {self.version()} | {self.pick(self.w_adj)} |"
                         for _ in range(self.between(2, 4))]
                block = "\n".join(rows)
            parts.append(block)
            size += len(block) + 2
        text = "\n\n".join(parts)
        if finish == "length":
            text = text[: max(40, int(len(text) * (0.5 + 0.4 * self.rnd())))]
        return text

    def preamble(self, lang: str) -> str | None:
        """What an assistant says along with its tool calls (often nothing at all)."""
        r = self.rnd()
        if r < 0.45:
            return None
        if r < 0.55:
            return ""
        if lang == "zh":
            return f"我先{self.pick(self.w_zh_verb)}一下{self.pick(self.w_zh_noun)}。"
        if lang == "ja":
            return f"まず{self.pick(self.w_ja_noun)}を確認します。"
        return self.pick((
            "Let me check that.", "I'll look at the logs first.", "Let me read the file.",
            "Searching for recent sources.", "Running the tests now.", "I'll start by reproducing it.",
        )) + ("" if r < 0.85 else " " + self.sentence())

    def reasoning(self) -> str:
        opener = self.pick((
            "The user wants", "I need to figure out", "First, let me think about", "OK so the issue is",
            "Let me reconsider", "The key question is",
        ))
        text = f"{opener} {self._words(self.between(5, 12))}. {self.paragraph(self.between(1, 5))}"
        if self.rnd() < 0.3:
            text += f" Maybe {self.pick(self.w_tech)} is the culprit; I should check {self.path()}."
        return text

    def title(self, category: str, lang: str) -> str:
        p = self.pick
        if lang == "zh":
            return f"{p(self.w_zh_verb)}{p(self.w_zh_noun)}"
        if lang == "ja":
            return f"{p(self.w_ja_noun)}の{p(('修正', '確認', '要約', '設定'))}"
        if category == "coding":
            return f"{p(self.w_verb).capitalize()} {p(self.w_adj)} {p(self.w_noun)} in {p(self.w_file)}"
        if category == "ops":
            return f"{p(self.w_verb).capitalize()} {p(self.w_tech)} on {p(self.w_host)}"
        if category == "research":
            return f"Research: {p(self.w_topic)}"
        if category == "writing":
            return f"{p(self.w_kind).capitalize()} for {p(self.w_project)}"
        return f"{p(self.w_verb).capitalize()} the {p(self.w_noun)}"

    # Tools ------------------------------------------------------------------------------------

    def tool_arguments(self, name: str, lang: str) -> dict[str, object]:
        r = self.rnd()
        p = self.pick
        if name == "terminal":
            args: dict[str, object] = {"command": self.command()}
            if r < 0.3:
                args["timeout"] = p((30, 60, 120, 300))
            elif r < 0.38:
                args["background"] = True
            return args
        if name == "read_file":
            if r < 0.4:
                return {"path": self.path(), "offset": self.between(1, 400), "limit": p((50, 100, 200, 500))}
            return {"path": self.path()}
        if name == "write_file":
            body = self.python_code(self.between(2, 5)) if r < 0.6 else self.paragraph(self.between(1, 3))
            return {"path": self.path(), "content": body}
        if name == "patch":
            noun = p(self.w_noun).split()[0]
            return {"path": self.path(), "old_string": f"{self.ident()}({noun})",
                    "new_string": f"{self.ident()}({noun}, retries=3)"}
        if name == "search_files":
            markers = "|".join(("TO" + "DO", "FIX" + "ME"))  # a grep pattern the agent searched for
            pattern = p((self.ident(), markers, f"def {self.ident()}", p(self.w_made_up)))
            glob = p(("*.py", "*.ts", "*", "*.yaml"))
            return {"pattern": pattern, "path": p(self.w_dir), "file_glob": glob}
        if name == "execute_code":
            return {"code": self.python_code(self.between(2, 4))}
        if name == "web_search":
            if lang == "zh":
                return {"query": f"{p(self.w_zh_noun)} {p(self.w_tech)} {p(self.w_zh_noun)}"}
            if lang == "ja":
                return {"query": f"{p(self.w_tech)} {p(self.w_ja_noun)}"}
            if r < 0.4:
                return {"query": p(self.w_topic)}
            if r < 0.7:
                return {"query": f"{p(self.w_tech)} {self.error()}"}
            return {"query": f"{p(self.w_rare)} {p(self.w_tech)} {self.version()}"}
        if name == "web_extract":
            return {"urls": [self.url() for _ in range(self.between(1, 3))]}
        if name == "browser_navigate":
            return {"url": self.url()}
        if name == "vision_analyze":
            return {"image_url": f"https://{p(self.w_project)}.example.com/screenshots/{p(self.w_made_up)}.png",
                    "question": f"What does the {p(self.w_noun)} show?"}
        if name == "browser_snapshot":
            return {"full": r < 0.3}
        if name == "memory":
            return {"action": p(("add", "add", "replace", "remove")), "target": "memory",
                    "content": self.sentence()}
        if name == "todo":
            return {"todos": [{"id": str(i + 1), "content": f"{p(self.w_verb)} the {p(self.w_noun)}",
                               "status": p(("pending", "in_progress", "completed"))}
                              for i in range(self.between(1, 4))]}
        if name == "send_message":
            return {"target": f"{p(('telegram', 'discord', 'slack'))}:{p(self.w_person)}",
                    "message": self.sentence()}
        if name == "image_generate":
            return {"prompt": f"a {p(self.w_adj)} {p(self.w_noun)} in the style of a {p(self.w_noun)}",
                    "aspect_ratio": p(("square", "landscape", "portrait"))}
        return {"input": self.sentence()}

    def tool_output(self, name: str, args: dict[str, object], lang: str) -> str:
        r = self.rnd()
        if r < 0.04:
            return json.dumps({"success": False, "error": self.error()})
        long = r > 0.985
        b = self.between
        dumps = json.dumps
        if name == "terminal":
            lines = self.some(self.log_lines, b(30, 100) if long else b(1, 5))
            if self.rnd() < 0.15:
                lines.append(self.error())
            code = 0 if self.rnd() < 0.8 else self.pick((1, 2, 127, 137))
            return dumps({"output": "\n".join(lines), "exit_code": code, "error": None}, ensure_ascii=False)
        if name == "read_file":
            offset = args.get("offset")
            start = offset if isinstance(offset, int) else 1
            code = self.python_code(b(60, 160) if long else b(2, 6)).split("\n")
            body = "\n".join(f"{start + i:6d}|{line}" for i, line in enumerate(code))
            return dumps({"content": body, "total_lines": start + len(code) + b(0, 400)}, ensure_ascii=False)
        if name == "web_search":
            results = [{"title": f"{self.pick(self.w_rare).capitalize()} and the {self.pick(self.w_noun)}",
                        "url": self.url(), "description": self.sentence()}
                       for _ in range(b(10, 20) if long else b(1, 3))]
            return dumps({"success": True, "data": {"web": results}}, ensure_ascii=False)
        if name in ("web_extract", "browser_navigate", "browser_snapshot"):
            blocks = []
            for _ in range(b(12, 40) if long else b(1, 2)):
                if lang in ("zh", "ja") and self.rnd() < 0.5:
                    blocks.append(self.cjk(lang, b(1, 3)))
                else:
                    blocks.append(self.paragraph(b(1, 2)))
            page = "\n\n".join(blocks)
            if name == "web_extract":
                urls = args.get("urls")
                url = urls[0] if isinstance(urls, list) and urls else self.url()
                result = {"url": url, "title": self.pick(self.w_topic).title(), "content": page}
                return dumps({"results": [result]}, ensure_ascii=False)
            title = f"{self.pick(self.w_project)} - {self.pick(self.w_noun)}"
            url = args.get("url") or self.url()
            return dumps({"success": True, "url": url, "title": title, "snapshot": page}, ensure_ascii=False)
        if name == "write_file":
            return dumps({"bytes_written": len(str(args.get("content", ""))), "dirs_created": False})
        if name == "patch":
            where = args.get("path")
            diff = (f"--- a/{where}\n+++ b/{where}\n@@ -{b(1, 300)},3 +{b(1, 300)},3 @@\n"
                    f"-{args.get('old_string')}\n+{args.get('new_string')}")
            return dumps({"success": True, "diff": diff})
        if name == "search_files":
            matches = [{"path": self.path(), "line": b(1, 800), "content": self.pick(self.code_lines).strip()}
                       for _ in range(b(20, 60) if long else b(0, 4))]
            return dumps({"matches": matches, "total_count": len(matches)})
        if name == "execute_code":
            out = "\n".join(self.some(self.log_lines, b(1, 6)))
            seconds = round(0.05 + 9 * self.rnd(), 2)
            return dumps({"status": "success", "output": out, "duration_seconds": seconds})
        if name == "vision_analyze":
            return dumps({"success": True, "analysis": self.paragraph(b(1, 3))})
        if name == "image_generate":
            return dumps({"success": True, "image": f"https://fal.media/files/{self.pick(self.w_made_up)}.png"})
        message = self.pick(("Entry added.", "Updated.", "Done.", "Message sent."))
        return dumps({"success": True, "message": message})


# ── Sessions ─────────────────────────────────────────────────────────────────────────────────

_SESSION_COLUMNS = (
    "id", "source", "user_id", "model", "model_config", "system_prompt", "parent_session_id", "started_at",
    "ended_at", "end_reason", "message_count", "tool_call_count", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "billing_provider", "billing_base_url",
    "billing_mode", "estimated_cost_usd", "actual_cost_usd", "cost_status", "cost_source",
    "pricing_version", "title", "last_active",
)
_MESSAGE_COLUMNS = (
    "id", "session_id", "role", "content", "tool_call_id", "tool_calls", "tool_name", "timestamp",
    "token_count", "finish_reason", "reasoning", "reasoning_details", "codex_reasoning_items",
)
_ROLE_NAMES = {"U": "user", "A": "assistant", "C": "assistant", "T": "tool"}
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# Hour-of-day weights (UTC; users in several time zones, busier in working hours).
_HOURS = _weighted([(str(h), w) for h, w in enumerate(
    (3, 2, 2, 2, 2, 3, 4, 6, 8, 9, 10, 10, 9, 10, 10, 10, 9, 8, 8, 8, 7, 6, 5, 4))])

# A message on its way to the file: (timestamp, chain index, sequence in chain, row without id).
_Pending = tuple[float, int, int, tuple[object, ...]]


def _tokens(text: str | None) -> int:
    return len(text) // 4 + 1 if text else 0


@dataclass
class _Segment:
    """One session of a chain, laid out on the chain's timeline before any text is written."""

    roles: list[tuple[str, int]]
    times: list[float]
    start: float


class _Generator:
    """Produces sessions and messages chain by chain, in order of start time."""

    def __init__(self, seed: int, now: float, sessions: int,
                 messages_per_session: tuple[int, int] | None) -> None:
        rng = self.rng = random.Random(seed)
        self.rnd = rng.random
        self.now = now
        self.range = messages_per_session
        self.text = _Text(rng, sessions)
        self.ids: set[str] = set()
        self.titles: set[str] = set()
        self.sources = _weighted(_SOURCES)
        self.categories = _weighted(_CATEGORIES)
        self.models = tuple(m for m in _MODELS for _ in range(m[1]))
        self.tools = {c: _weighted(v) for c, v in _TOOLS_BY_CATEGORY.items()}
        self.users: dict[str, list[str | None]] = {
            "cli": [None],
            "telegram": [str(rng.randint(10**8, 10**10)) for _ in range(6)],
            "discord": [str(rng.randint(10**17, 10**18)) for _ in range(8)],
            "slack": ["U0" + "".join(rng.choice(_ALNUM[:26] + _ALNUM[52:]) for _ in range(9))
                      for _ in range(10)],
        }
        self.chains = self._plan_chains(sessions)
        self.starts = sorted(self._start_time() for _ in self.chains)

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rnd() * len(seq))]

    # Plans ------------------------------------------------------------------------------------

    def _plan_chains(self, sessions: int) -> list[int]:
        """Lengths of session chains (1 = a lone session) adding up to ``sessions``."""
        chains: list[int] = []
        left = sessions
        while left > 0:
            length = 1
            if self.rnd() < 0.07:
                length = self.rng.choices((2, 3, 4, 5, 6), (62, 22, 9, 4, 3))[0]
            length = min(length, left)
            chains.append(length)
            left -= length
        return chains

    def _start_time(self) -> float:
        # Usage grows over the months: recent days are busier. Hours follow a daily rhythm.
        day = math.floor(HISTORY_DAYS * (self.rnd() ** 1.35))
        midnight = self.now - self.now % _DAY - day * _DAY
        t = midnight + int(self.pick(_HOURS)) * 3600 + self.rnd() * 3600
        if t > self.now - 120:
            t = self.now - 120 - self.rnd() * 6 * 3600
        return t

    def message_target(self, continued: bool) -> int:
        if self.range is not None:
            return self.rng.randint(*self.range)
        if not continued and self.rnd() < 0.03:
            return 0
        mu = 2.6 if continued else 1.78
        return max(1, min(600, round(math.exp(self.rng.gauss(mu, 0.85)))))

    def skeleton(self, n: int, category: str, ending: str) -> list[tuple[str, int]]:
        """Roles for exactly ``n`` messages: ("U",0) user, ("C",k) assistant calling k tools,
        ("T",0) a tool result, ("A",0) a final assistant answer.

        A turn is user + (assistant-with-calls + results)* + answer. ``ending`` "user" leaves a
        last unanswered user message; "tool" ends inside a tool round (the agent was stopped).
        """
        out: list[tuple[str, int]] = []
        tail: list[tuple[str, int]] = []
        body = n
        if ending == "user" and n >= 3:
            tail = [("U", 0)]
        elif ending == "tool" and n >= 3:
            results = self.rng.randint(1, min(3, n - 2))
            tail = [("U", 0), ("C", results + (self.rnd() < 0.3)), *([("T", 0)] * results)]
        body -= len(tail)
        chance = _TOOL_TURN_CHANCE[category]
        left = body
        while left > 0:
            if left == 1:
                out.append(("U", 0))
                break
            rounds = 0
            extra_calls = 0
            if self.rnd() < chance:
                rounds = 1 + min(7, int(self.rng.expovariate(0.55)))
                extra_calls = sum(self.rng.randint(1, 3) for _ in range(rounds) if self.rnd() < 0.22)
            natural = 1 + 2 * rounds + extra_calls
            size = self._fit(natural, left - 1)
            if size is None:  # exactly 3 left: a tool round the agent never answered
                out += [("U", 0), ("C", 1), ("T", 0)]
                break
            out.append(("U", 0))
            out += self._rounds(size - 1, rounds)
            out.append(("A", 0))
            left -= 1 + size
        return out + tail

    @staticmethod
    def _fit(natural: int, avail: int) -> int | None:
        """The agent-part size nearest ``natural`` that fits and leaves a usable remainder."""
        natural = min(natural, avail)
        for delta in range(avail + 1):
            for size in (natural - delta, natural + delta):
                if 1 <= size <= avail and size != 2 and (avail - size) not in (1, 3):
                    return size
        return None

    def _rounds(self, total: int, wanted: int) -> list[tuple[str, int]]:
        """Tool rounds (assistant call + its results) filling exactly ``total`` messages."""
        if total <= 0:
            return []
        rounds = max(1, min(wanted, total // 2))
        extra = total - 2 * rounds
        while extra > 3 * rounds:
            rounds += 1
            extra -= 2
        ks = [1] * rounds
        for _ in range(extra):
            i = int(self.rnd() * rounds)
            while ks[i] >= 4:
                i = (i + 1) % rounds
            ks[i] += 1
        out: list[tuple[str, int]] = []
        for k in ks:
            out.append(("C", k))
            out += [("T", 0)] * k
        return out

    # Identity ---------------------------------------------------------------------------------

    def session_id(self, started: float) -> str:
        stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%d_%H%M%S")
        while True:
            sid = f"{stamp}_{self.rng.getrandbits(24):06x}"
            if sid not in self.ids:
                self.ids.add(sid)
                return sid

    def unique_title(self, base: str) -> str:
        title = base
        n = 1
        while title in self.titles:
            n += 1
            extra = self.text.pick(self.text.w_project) if n < 4 else f"{self.text.pick(_MADE_UP)} {n}"
            title = f"{base} ({extra})"
        self.titles.add(title)
        return title

    def call_id(self, claude: bool) -> str:
        raw = base64.b64encode(self.rng.getrandbits(144).to_bytes(18, "big"), altchars=b"xK").decode()
        return f"toolu_01{raw[:22]}" if claude else f"call_{raw}"

    def system_prompt(self, source: str) -> str:
        t = self.text
        surface = {"cli": "a terminal (CLI)", "telegram": "Telegram", "discord": "Discord", "slack": "Slack"}
        memory = "\n".join(f"- {s}" for s in t.some(t.sentences, t.between(1, 3)))
        return (
            "You are Hermes, an autonomous AI agent created by Nous Research. You are helpful, direct and "
            "careful with the user's systems. Use tools when they help; explain what you did.\n\n"
            f"You are talking to the user through {surface[source]}. Format answers for that surface.\n\n"
            f"## Memory\n{memory}\n\n## Skills\n- {t.pick(t.w_project)}: {t.sentence()}\n"
        )

    # One chain: a session and its compression continuations --------------------------------

    def chain(self, index: int, length: int, start: float) -> tuple[list[tuple[object, ...]], list[_Pending]]:
        rnd = self.rnd
        text = self.text
        source = self.pick(self.sources)
        category = self.pick(self.categories)
        x = rnd()
        lang = "zh" if x < 0.07 else "ja" if x < 0.1 else "en"
        model, _w, provider, base_url, mode, prices = self.models[int(rnd() * len(self.models))]
        thinking = any(k in model for k in _REASONING_MODELS) and rnd() < 0.7
        user_id = self.users[source][int(rnd() * len(self.users[source]))]
        toolsets = self.rng.sample(("web", "terminal", "file", "browser", "memory", "todo", "vision"),
                                   self.rng.randint(2, 5))
        config = json.dumps({
            "max_iterations": self.pick((60, 90, 120)),
            "reasoning_effort": self.pick(("low", "medium", "high")) if thinking else None,
            "toolsets": toolsets,
        })
        system_prompt = self.system_prompt(source) if rnd() < 0.8 else None
        # Every API call sends the system prompt and the tool schemas before the conversation.
        prompt_tokens = (_tokens(system_prompt) or 900) + 1500 + 700 * len(toolsets)
        base_title = text.title(category, lang) if rnd() < 0.85 else None

        # Lay every segment out on one timeline first.
        segments: list[_Segment] = []
        t = start
        for seg in range(length):
            last_segment = seg == length - 1
            n = self.message_target(seg > 0 or length > 1)
            if not last_segment:
                n = max(n, 2)
                ending = "tool" if rnd() < 0.5 else "normal"
            else:
                e = rnd()
                ending = "user" if e < 0.04 else "tool" if e < 0.07 else "normal"
            roles = self.skeleton(n, category, ending)
            seg_start = t
            times: list[float] = []
            t += 0.5 + 20 * rnd()
            prev = "A"
            for role, _k in roles:
                if role == "U":
                    if not times:
                        gap = 0.3 + 3 * rnd()
                    elif rnd() < 0.85:
                        gap = 8 + 600 * rnd()
                    else:
                        gap = 600 + 5 * 3600 * rnd()
                elif role == "T":
                    gap = 0.2 + 40 * rnd() if prev != "T" else 0.01 + 2 * rnd()
                else:
                    gap = 1.5 + 45 * rnd()
                t += gap
                times.append(t)
                prev = role
            segments.append(_Segment(roles, times, seg_start))
            t += 0.5 + 4.5 * rnd()  # a continuation starts right after compression
        # A chain that would run past "now" is squeezed into the time left (its start stays put).
        limit = self.now - 30.0
        factor = (limit - start) / (t - start) if t > limit else 1.0
        floor = start
        for s in segments:
            s.start = round(max(floor, start + (s.start - start) * factor), 6)
            times = []
            floor = s.start
            for x in s.times:
                floor = round(max(floor + 0.001, start + (x - start) * factor), 6)
                times.append(floor)
            s.times = times
            floor += 0.5

        session_rows: list[tuple[object, ...]] = []
        pending: list[_Pending] = []
        parent: str | None = None
        seq = 0
        for seg, s in enumerate(segments):
            sid = self.session_id(s.start)
            title = None
            if base_title is not None:
                if seg == 0:
                    title = base_title = self.unique_title(base_title)
                else:
                    title = f"{base_title} #{seg + 1}"
                    self.titles.add(title)
            totals = self.fill(index, seq, sid, s, lang, category, thinking, prices, provider,
                               prompt_tokens, pending, summary=seg > 0 and rnd() < 0.7)
            seq += len(s.roles)
            last = s.times[-1] if s.times else s.start
            if seg < length - 1:
                ended_at: float | None = segments[seg + 1].start
                end_reason: str | None = "compression"
            else:
                ended_at, end_reason = self.ending(source, last, bool(s.roles))
            count, calls, inp, out, cr, cw, rt = totals
            est: float | None = None
            actual: float | None = None
            status = cost_source = pricing = None
            bill: tuple[str | None, str | None, str | None] = (None, None, None)
            if out:  # at least one API call was made
                bill = (provider, base_url, mode)
                if mode == "local":
                    est, status, cost_source = 0.0, "unknown", "none"
                else:
                    cost = (inp * prices[0] + out * prices[1] + cr * prices[2] + cw * prices[3]) / 1e6
                    est = round(cost, 6)
                    pricing = "2026-09-01" if s.start > self.now - 80 * _DAY else "2026-05-15"
                    if mode == "subscription":
                        status, cost_source = "included", "subscription"
                    elif provider == "openrouter" and rnd() < 0.6:
                        status, cost_source = "actual", "provider_usage"
                        actual = round(cost * (0.92 + 0.13 * rnd()), 6)
                    else:
                        status, cost_source = "estimated", "pricing_table"
            session_rows.append((
                sid, source, user_id, model, config, system_prompt, parent, s.start, ended_at, end_reason,
                count, calls, inp, out, cr, cw, rt, *bill, est, actual, status, cost_source, pricing, title,
                max(s.start, last),
            ))
            parent = sid
        return session_rows, pending

    def ending(self, source: str, last: float, has_messages: bool) -> tuple[float | None, str | None]:
        rnd = self.rnd
        if (last > self.now - 2 * _DAY and rnd() < 0.7) or rnd() < 0.03:
            return None, None  # still open (or the process died without ending it)
        if has_messages and rnd() < 0.02:
            reason = "error"
        elif source == "cli":
            reason = "user_exit" if rnd() < 0.9 else "timeout"
        else:
            reason = "timeout" if rnd() < 0.75 else "user_exit"
        ended = last + (1800 + 3 * 3600 * rnd() if reason == "timeout" else 1 + 30 * rnd())
        if ended >= self.now:
            return None, None
        return ended, reason

    def fill(self, index: int, seq: int, sid: str, seg: _Segment, lang: str, category: str, thinking: bool,
             prices: tuple[float, float, float, float], provider: str, sys_tokens: int,
             pending_out: list[_Pending], *, summary: bool) -> tuple[int, int, int, int, int, int, int]:
        """Write one session's messages; return (messages, tool calls, in, out, cache r/w, reasoning)."""
        rnd = self.rnd
        text = self.text
        tools = self.tools[category]
        claude = prices[3] > 0  # only the Anthropic models bill cache writes (and use toolu_ ids)
        cached_prefix = prices[2] > 0
        add = pending_out.append
        context = sys_tokens
        prev_context = 0
        inp = out = cr = cw = rt = calls_total = 0
        waiting: list[tuple[str, str, dict[str, object]]] = []
        first_user = True
        for i, (role, k) in enumerate(seg.roles):
            ts = seg.times[i]
            content: str | None
            call_id = calls_json = tool_name = finish = reasoning = details = codex = None
            token_count: int | None = None
            if role == "U":
                content = text.summary_message() if first_user and summary else text.user_ask(
                    category, lang, first_user)
                first_user = False
                waiting = []
            elif role == "T":
                if waiting:
                    call_id, tool_name, args = waiting.pop(0)
                else:  # cannot happen with skeleton(); stay well-formed regardless
                    call_id, tool_name, args = self.call_id(claude), "terminal", {}
                content = text.tool_output(tool_name, args, lang)
            else:
                if role == "C":
                    calls = []
                    waiting = []
                    for _ in range(k):
                        name = self.pick(tools)
                        args = text.tool_arguments(name, lang)
                        cid = self.call_id(claude)
                        calls.append({"id": cid, "type": "function", "function": {
                            "name": name, "arguments": json.dumps(args, ensure_ascii=False)}})
                        waiting.append((cid, name, args))
                    calls_json = json.dumps(calls, ensure_ascii=False)
                    calls_total += k
                    content = text.preamble(lang)
                    finish = "tool_calls"
                else:
                    x = rnd()
                    finish = "stop" if x < 0.945 else "length" if x < 0.99 else "error"
                    content = text.assistant_answer(lang, finish)
                r_tok = 0
                if thinking and finish != "error" and rnd() < 0.55:
                    reasoning = text.reasoning()
                    r_tok = _tokens(reasoning) * 3 // 2
                    rt += r_tok
                    if provider == "openrouter" and rnd() < 0.5:
                        details = json.dumps([{"type": "reasoning.text", "text": reasoning,
                                               "format": "anthropic-claude-v1" if claude else "unknown",
                                               "index": 0}], ensure_ascii=False)
                    elif provider == "openai" and rnd() < 0.6:
                        codex = json.dumps([{"type": "reasoning", "id": f"rs_{self.rng.getrandbits(96):024x}",
                                             "summary": [{"type": "summary_text", "text": reasoning[:200]}],
                                             "encrypted_content": f"gAAAAB{self.rng.getrandbits(160):040x}"}])
                token_count = _tokens(content) + _tokens(calls_json)
                # One API call: the whole context goes in, part of it served from the prompt cache.
                if cached_prefix:
                    hit = prev_context if claude else prev_context // 1024 * 1024
                    written = context - prev_context if claude else 0
                    cr += hit
                    cw += written
                    inp += context - hit - written
                else:
                    inp += context
                out += token_count + r_tok
                prev_context = context
            context += _tokens(content) + _tokens(calls_json)
            add((ts, index, seq + i, (sid, _ROLE_NAMES[role], content, call_id, calls_json, tool_name, ts,
                                      token_count, finish, reasoning, details, codex)))
        return len(seg.roles), calls_total, inp, out, cr, cw, rt

    # The whole history, in id order ---------------------------------------------------------

    def batches(self) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
        """Yield (session rows, message rows with ids) in the order they go into the file.

        Chains are generated in order of start time; a message is released once every chain
        that could still produce an earlier one has been generated, so ids grow with time and
        the messages of concurrent sessions interleave.
        """
        heap: list[_Pending] = []
        next_id = 1
        count = len(self.chains)
        for index, (length, start) in enumerate(zip(self.chains, self.starts, strict=True)):
            sessions, pending = self.chain(index, length, start)
            for item in pending:
                heapq.heappush(heap, item)
            horizon = self.starts[index + 1] if index + 1 < count else math.inf
            rows: list[tuple[object, ...]] = []
            while heap and heap[0][0] < horizon:
                row = heapq.heappop(heap)[3]
                rows.append((next_id, *row))
                next_id += 1
            yield sessions, rows


# ── Building the file ────────────────────────────────────────────────────────────────────────


def _sidecars(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _create_private(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # umask can only narrow the mode; make it exactly 0600
    finally:
        os.close(fd)


_BULK_TRIGGERS = ("messages_fts_insert", "messages_last_active_insert")
_CHUNK_MESSAGES = 40_000
_LOAD_AUTOMERGE = 8
_FTS5_AUTOMERGE = 4  # FTS5's built-in default
_AUTOMERGE_SQL = "INSERT INTO messages_trgm(messages_trgm, rank) VALUES ('automerge', ?)"


class _Loader:
    """Bulk-loads one new database file; the full-text indexing runs beside the generator.

    The per-row insert triggers are dropped for the load. Rows go in with ``executemany`` on the
    calling thread; each chunk's id range is then indexed by one worker thread with the same
    statements the FTS trigger and ``schema.trigram_maintenance_step`` run, as ``INSERT ... SELECT``
    over the chunk. Those statements spend their time in SQLite without the GIL, so the next chunk
    is generated meanwhile. The connection is never used by two threads at once: the caller waits
    for the previous chunk's indexing before it inserts the next rows. When every row is in, the
    trigram window is set (all rows, or none with ``trigram=False``) and the triggers are recreated.
    """

    def __init__(self, path: Path, *, trigram: bool = True) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.want_trigram = trigram
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-index")
        self.indexing: Future[None] | None = None
        self.next_id = 1
        self.trigram = False
        self.index_trigram = False
        self.dropped: list[str] = []
        self.triggers: dict[str, str] = {}

    def start(self) -> None:
        conn = self.conn
        conn.execute("PRAGMA journal_mode = WAL")
        self.trigram = schema.trigram_supported(conn)  # the table exists (SQLite >= 3.34)
        self.index_trigram = self.trigram and self.want_trigram  # and this build fills it
        conn.execute("BEGIN IMMEDIATE")
        schema.migrate(conn, trigram_supported=self.trigram)
        conn.execute("COMMIT")
        # Bulk load: no journal (a failed build is deleted, never rolled back), no syncs, big cache.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -262144",
                       "temp_store = MEMORY", "locking_mode = EXCLUSIVE"):
            conn.execute(f"PRAGMA {pragma}")
        self.triggers = {**schema.FTS_TRIGGERS, **schema.ACTIVITY_TRIGGERS}
        if self.trigram:
            self.triggers.update(schema.TRGM_TRIGGERS)
        self.dropped = [name for name in _BULK_TRIGGERS if name in self.triggers]
        conn.execute("BEGIN IMMEDIATE")
        for name in self.dropped:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        if self.index_trigram:
            # Merge trigram segments 8 at a time instead of 4 during the load: a quarter to a third
            # less work for the same index. ``finish`` puts back FTS5's default of 4.
            conn.execute(_AUTOMERGE_SQL, (_LOAD_AUTOMERGE,))

    def add(self, sessions: list[tuple[object, ...]], messages: list[tuple[object, ...]]) -> None:
        """Insert rows (messages carry consecutive ids) and queue their indexing."""
        self.wait()
        self.conn.executemany(_SESSION_SQL, sessions)
        self.conn.executemany(_MESSAGE_SQL, messages)
        if messages:
            lo, hi = self.next_id, self.next_id + len(messages) - 1
            self.next_id = hi + 1
            self.indexing = self.pool.submit(self._index, lo, hi)

    def _index(self, lo: int, hi: int) -> None:
        self.conn.execute(
            "INSERT INTO messages_fts(rowid, content) "
            "SELECT id, content FROM messages WHERE id BETWEEN ? AND ?", (lo, hi))
        if self.index_trigram:
            self.conn.execute(
                "INSERT INTO messages_trgm(rowid, content, tools) "
                "SELECT id, content, tools FROM messages_trgm_source WHERE id BETWEEN ? AND ?", (lo, hi))

    def wait(self) -> None:
        if self.indexing is not None:
            job, self.indexing = self.indexing, None
            job.result()

    def finish(self) -> None:
        self.wait()
        conn = self.conn
        if self.trigram:
            top = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            if self.index_trigram:  # every row is indexed: the window covers them all
                conn.execute(_AUTOMERGE_SQL, (_FTS5_AUTOMERGE,))
                window = (1, top + 1)
            else:  # an empty window above the newest row; maintenance grows it, newest first
                window = (top + 1, top + 1)
            conn.executemany("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)",
                             (("trgm_low", window[0]), ("trgm_high", window[1])))
            conn.execute(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('store_revision', ?)",
                (schema.STORE_REVISION,),
            )
        for name in self.dropped:
            conn.execute(self.triggers[name])
        conn.execute("COMMIT")
        conn.execute("PRAGMA locking_mode = NORMAL")
        conn.execute("PRAGMA journal_mode = WAL")  # also ends the exclusive lock

    def close(self, *, failed: bool) -> None:
        if failed and self.indexing is not None:
            self.conn.interrupt()  # stop a long indexing statement now; the file is discarded
        with contextlib.suppress(Exception):  # the build already failed; keep its own exception
            self.wait()
        self.pool.shutdown(wait=True)
        self.conn.close()


_SESSION_SQL = (f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_SESSION_COLUMNS))})")
_MESSAGE_SQL = (f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_MESSAGE_COLUMNS))})")


def _build(tmp: Path, gen: _Generator, progress: Callable[[int, int], None] | None, *,
           trigram: bool) -> tuple[int, int]:
    """Write schema and rows into the empty file ``tmp``. Returns (sessions, messages)."""
    loader = _Loader(tmp, trigram=trigram)
    failed = True
    try:
        loader.start()
        total = sum(gen.chains)
        sessions_done = messages_done = 0
        buf_sessions: list[tuple[object, ...]] = []
        buf_messages: list[tuple[object, ...]] = []
        for sessions, messages in gen.batches():
            buf_sessions += sessions
            buf_messages += messages
            if len(buf_messages) >= _CHUNK_MESSAGES:
                loader.add(buf_sessions, buf_messages)
                sessions_done += len(buf_sessions)
                messages_done += len(buf_messages)
                buf_sessions, buf_messages = [], []
                if progress is not None:
                    progress(sessions_done, total)
        loader.add(buf_sessions, buf_messages)
        sessions_done += len(buf_sessions)
        messages_done += len(buf_messages)
        loader.finish()
        failed = False
        if progress is not None:
            progress(sessions_done, total)
    finally:
        loader.close(failed=failed)
    return sessions_done, messages_done


def generate(
    path: Path,
    *,
    sessions: int = 2000,
    seed: int = 7,
    now: float | None = None,
    messages_per_session: tuple[int, int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
    trigram: bool = True,
) -> DemoSummary:
    """Write a new demo database at ``path`` holding ``sessions`` sessions.

    Deterministic: the same ``seed`` and ``now`` give identical rows. ``now`` defaults to the
    fixed ``DEFAULT_NOW`` (never the clock); the history covers the ~6 months before it.
    ``messages_per_session=(lo, hi)`` draws each session's message count uniformly from that range
    (``lo`` 0 allows empty sessions); by default counts are long-tailed with a mean near 10.
    ``progress(sessions_done, sessions_total)`` is called as rows are written.

    ``trigram=False`` leaves the trigram index empty (a valid state: the store's maintenance fills
    it later, newest rows first) and builds about three times faster; substring/CJK search then
    falls back to LIKE until it is filled.

    Raises ``FileExistsError`` if ``path`` exists, unless ``overwrite``. The file is created 0600
    under a temporary name in the same folder and renamed into place only when complete.
    """
    began = time.perf_counter()
    path = Path(path)
    if sessions < 0:
        raise ValueError("sessions must be >= 0")
    if messages_per_session is not None:
        lo, hi = messages_per_session
        if lo < 0 or hi < lo:
            raise ValueError(f"invalid messages_per_session range {messages_per_session}")
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")

    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    _create_private(tmp)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of long-lived tuples: the cyclic collector would triple the run time
    try:
        gen = _Generator(seed, DEFAULT_NOW if now is None else float(now), sessions, messages_per_session)
        n_sessions, n_messages = _build(tmp, gen, progress, trigram=trigram)
        for side in _sidecars(tmp):
            if side.exists():  # closing the last connection normally removes them
                os.chmod(side, PRIVATE_FILE_MODE)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            for side in _sidecars(path):  # the old file's WAL must never be replayed onto the new one
                _remove_quietly(side)
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if ``path`` appeared meanwhile: never clobber anything
            tmp.unlink()
    except BaseException:
        for p in (tmp, *_sidecars(tmp)):
            _remove_quietly(p)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    return DemoSummary(sessions=n_sessions, messages=n_messages, seconds=time.perf_counter() - began,
                       path=path, size_bytes=path.stat().st_size)


# ── Command line ─────────────────────────────────────────────────────────────────────────────


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.2f} GB"


def _describe(exc: BaseException, out: Path) -> str:
    """One line for the terminal."""
    if isinstance(exc, FileExistsError):
        return f"{out} already exists (use --force to replace it)"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot write {out}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store.demo",
                                     description="Write a deterministic demo session database.")
    parser.add_argument("--out", required=True, type=Path, help="database file to create")
    parser.add_argument("--sessions", type=int, default=2000, help="number of sessions (default 2000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--messages-min", type=int, default=None, help="fewest messages in a session")
    parser.add_argument("--messages-max", type=int, default=None, help="most messages in a session")
    parser.add_argument("--now-real", action="store_true",
                        help="end the history at the current time instead of 2026-11-20T12:00Z")
    parser.add_argument("--no-trigram", action="store_true",
                        help="leave the trigram index for the store's maintenance to fill (3x faster build)")
    parser.add_argument("--force", action="store_true", help="replace the file if it exists")
    args = parser.parse_args(argv)

    try:
        if args.sessions < 0:
            raise ValueError("--sessions must be >= 0")
        per: tuple[int, int] | None = None
        if args.messages_min is not None or args.messages_max is not None:
            lo = args.messages_min if args.messages_min is not None else 0
            hi = args.messages_max if args.messages_max is not None else max(lo, 40)
            if lo < 0 or hi < lo:
                raise ValueError("need 0 <= --messages-min <= --messages-max")
            per = (lo, hi)
        summary = generate(args.out, sessions=args.sessions, seed=args.seed,
                           now=time.time() if args.now_real else None, messages_per_session=per,
                           overwrite=args.force, trigram=not args.no_trigram)
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (OSError, sqlite3.Error, ValueError) as exc:
        print(f"error: {_describe(exc, args.out)}", file=sys.stderr)
        return 1
    print(f"wrote {summary.path}: {summary.sessions} sessions, {summary.messages} messages, "
          f"{summary.seconds:.1f} s, {_human(summary.size_bytes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
