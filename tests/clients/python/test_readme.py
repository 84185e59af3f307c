#!/usr/bin/python3
"""The README's "Using it" commands, run as written (issue 11).

Every ```sh block of README.md's "## Using it" section (up to the next "## " heading) runs, in
order, with bash -e -o pipefail from the repository root, against one broker this test starts on
ephemeral ports. A block right after the HTML comment `<!-- not run by test_readme.py: why -->`
is skipped (Docker: no engine here).

What is changed before running, so the commands reach the test's broker and not a broker a user
may have on the default ports:
  * localhost:9092 / 127.0.0.1:9092 -> the broker's Kafka address, localhost:9644 -> its admin
    address (also in the expected output);
  * the built-in tools (`minikafka topics|console-producer|console-consumer|consumer-groups`),
    which default to localhost:9092, get `--bootstrap-server` with the broker's address;
  * PATH starts with the directory of $MINIKAFKA_BIN (the README exports build/broker, which is
    the same directory when the build directory is `build`).

Checks: each block exits 0; a ```text block that follows a ```sh block (before any heading or
other code block) is its expected output: every line must be found in the block's stdout, with
"..." matching anything (curl prints no newline after a body, so lines are searched for, not
compared line by line). The section's first ```text block is the banner the broker prints. The
two commands at the top of the README are a contract and must stay as they are.

Run:  MINIKAFKA_BIN=build/broker/minikafka /usr/bin/python3 tests/clients/python/test_readme.py
"""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mkfixture import BrokerTestCase, broker_binary  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
SKIP = "<!-- not run by test_readme.py"
TOOLS = r"\bminikafka (topics|console-producer|console-consumer|consumer-groups)\b"
BLOCK_TIMEOUT_S = 90


def using_it_blocks(readme):
    """[(lang, text, skipped, expected_text_or_None)] of the "Using it" section, in order."""
    start = readme.index("\n## Using it\n")
    end = readme.index("\n## ", start + 1)
    lines = readme[start:end].split("\n")
    blocks = []  # (lang, text, skipped, line index of the fence)
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        blocks.append((m.group(1), "\n".join(lines[i + 1:j]), prev.startswith(SKIP), i, j))
        i = j + 1
    out = []
    for n, (lang, text, skipped, first, last) in enumerate(blocks):
        expected = None
        if lang == "sh" and n + 1 < len(blocks) and blocks[n + 1][0] == "text":
            between = lines[last + 1:blocks[n + 1][3]]
            if not any(line.startswith("#") for line in between):
                expected = blocks[n + 1][1]
        out.append((lang, text, skipped, expected))
    return out


class ReadmeTest(BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kafka = cls.bootstrap
        cls.admin = cls.broker.admin_url().replace("http://", "")
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
            cls.readme = f.read()

    def substitute(self, text):
        text = text.replace("localhost:9092", self.kafka).replace("127.0.0.1:9092", self.kafka)
        text = text.replace("localhost:9644", self.admin).replace("127.0.0.1:9644", self.admin)
        return text

    def test_the_two_commands_at_the_top_stay_as_they_are(self):
        head = self.readme[:self.readme.index("\n## ")]
        self.assertIn("```sh\n./scripts/run.sh    # install dependencies, build, start minikafka "
                      "(in-memory) on localhost:9092\n```", head)
        self.assertIn("```sh\n./scripts/test.sh   # install dependencies, build (warnings are errors), "
                      "run every test\n```", head)

    def test_banner_is_what_the_broker_prints(self):
        text_blocks = [b for b in using_it_blocks(self.readme) if b[0] == "text"]
        self.assertEqual(self.substitute(text_blocks[0][1]).split("\n"),
                         [f"kafka {self.kafka}", f"admin http://{self.admin}"])

    def test_using_it_commands_run_as_written(self):
        blocks = [b for b in using_it_blocks(self.readme) if b[0] == "sh"]
        self.assertGreaterEqual(len([b for b in blocks if not b[2]]), 5, "no commands found")
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(os.path.abspath(broker_binary())) + os.pathsep + env["PATH"]
        for lang, text, skipped, expected in blocks:
            if skipped:
                continue
            script = re.sub(TOOLS, rf"\g<0> --bootstrap-server {self.kafka}", self.substitute(text))
            with self.subTest(block=text.split("\n")[0][:80]):
                r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=REPO, env=env,
                                   capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
                self.assertEqual(r.returncode, 0,
                                 f"exit {r.returncode}:\n{script}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
                if expected is None:
                    continue
                for line in self.substitute(expected).split("\n"):
                    if not line.strip():
                        continue
                    pattern = ".*?".join(re.escape(part) for part in line.split("..."))
                    self.assertRegex(r.stdout, pattern,
                                     f"expected output line not printed:\n{line}\nby:\n{script}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
