"""An application can depend on a tagged release of the Swiftcask library.

SwiftPM refuses a version-pinned dependency whose targets carry unsafe flags unless that
package declares swift-tools-version 6.2 or later; ours carries one (release builds without
runtime exclusivity checks), so this builds a small application against a tag of this
checkout, as a user's package would, and runs it.
"""
import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_SECONDS = 900

CONSUMER_MANIFEST = """// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(url: "{url}", from: "1.0.0")],
    targets: [.executableTarget(name: "App", dependencies: [.product(name: "Swiftcask", package: "swiftcask")])]
)
"""

CONSUMER_MAIN = """import Foundation
import Swiftcask

let directory = CommandLine.arguments[1]
let store = try Store(directory: directory)
try store.put("greeting", "hello from a tagged release")
print(String(decoding: try store.get("greeting") ?? [], as: UTF8.self))
try store.close()
"""


def run(arguments, cwd):
    return subprocess.run(arguments, cwd=cwd, check=True, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_SECONDS)


def test_an_application_builds_against_a_tagged_release_and_runs(tmp_path):
    if not shutil.which("swift") or not shutil.which("git"):
        pytest.skip("needs swift and git")
    # A clone of this checkout with the working tree's manifest, tagged as a release.
    release = tmp_path / "swiftcask"
    run(["git", "clone", "-q", str(REPO), str(release)], cwd=tmp_path)
    shutil.copy(REPO / "Package.swift", release / "Package.swift")
    identity = ["-c", "user.name=packaging test", "-c", "user.email=test@localhost"]
    run(["git", *identity, "commit", "-q", "--allow-empty", "-am", "release"], cwd=release)
    run(["git", "tag", "1.0.0"], cwd=release)

    consumer = tmp_path / "consumer"
    (consumer / "Sources" / "App").mkdir(parents=True)
    (consumer / "Package.swift").write_text(CONSUMER_MANIFEST.format(url=release.as_uri()))
    (consumer / "Sources" / "App" / "main.swift").write_text(CONSUMER_MAIN)
    build = subprocess.run(["swift", "build", "-c", "release"], cwd=consumer, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT_SECONDS)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]

    output = run([str(consumer / ".build" / "release" / "App"), str(tmp_path / "data")], cwd=consumer)
    assert output.stdout.strip() == "hello from a tagged release"
