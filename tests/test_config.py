"""Settings: environment > .env > lynkr.toml [env] > lynkr.toml [lynkr] > defaults."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from lynkr_core.config import CORE_ENV, ConfigError, CoreSettings, Settings, mask


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in an empty directory, so no stray .env or lynkr.toml is read."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A .env and a lynkr.toml that each set LOG_LEVEL, MODEL_PROVIDER, LYNKR_HOST, PORT differently."""
    env_file = write(
        tmp_path / "test.env",
        "LOG_LEVEL=from-dotenv\nMODEL_PROVIDER=from-dotenv\nLYNKR_HOST=from-dotenv\n",
    )
    toml_file = write(
        tmp_path / "test.toml",
        """
[env]
LOG_LEVEL = "from-toml-env"
MODEL_PROVIDER = "from-toml-env"
LYNKR_HOST = "from-toml-env"
LYNKR_LOG_FORMAT = "from-toml-env"

[lynkr]
log_level = "from-lynkr-table"
model_provider = "from-lynkr-table"
host = "from-lynkr-table"
log_format = "from-lynkr-table"
workspace_root = "from-lynkr-table"
port = 9001
""",
    )
    return env_file, toml_file


def test_defaults() -> None:
    settings = Settings.load({})
    assert settings.core == CoreSettings()
    assert settings.core.port == 8080
    assert settings.core.plugins is None
    assert settings.core.api_keys == []
    assert settings.core.strict_plugins is False
    assert settings.sources == ("environment",)


def test_precedence(files: tuple[Path, Path]) -> None:
    env_file, toml_file = files
    settings = Settings.load({"LOG_LEVEL": "from-process"}, env_file=env_file, toml_file=toml_file)
    core = settings.core
    assert core.log_level == "from-process"  # env beats .env
    assert core.model_provider == "from-dotenv"  # .env beats [env]
    assert core.host == "from-dotenv"
    assert core.log_format == "from-toml-env"  # [env] beats [lynkr]
    assert core.workspace_root == "from-lynkr-table"  # [lynkr] beats defaults
    assert core.port == 9001
    assert core.home == "~/.lynkr"  # default
    assert settings.sources == (str(toml_file), str(env_file), "environment")


def test_get_reads_merged_raw_values(files: tuple[Path, Path]) -> None:
    env_file, toml_file = files
    settings = Settings.load({"LOG_LEVEL": "p"}, env_file=env_file, toml_file=toml_file)
    assert settings.get("LOG_LEVEL") == "p"
    assert settings.get("MODEL_PROVIDER") == "from-dotenv"
    assert settings.get("LYNKR_LOG_FORMAT") == "from-toml-env"
    assert settings.get("NOPE") is None
    assert settings.get("NOPE", "dflt") == "dflt"


def test_port_is_an_int() -> None:
    assert Settings.load({"PORT": "9000"}).core.port == 9000


def test_float_setting() -> None:
    settings = Settings.load({"LYNKR_UPSTREAM_TIMEOUT_SECONDS": "2.5"})
    assert settings.core.upstream_timeout_seconds == 2.5


@pytest.mark.parametrize(
    "value,expected",
    [("a, b", ["a", "b"]), ("a,b,", ["a", "b"]), (" a ", ["a"]), ("", []), ("k1", ["k1"])],
)
def test_api_keys_is_a_comma_list(value: str, expected: list[str]) -> None:
    assert Settings.load({"LYNKR_API_KEYS": value}).core.api_keys == expected


def test_plugins_unset_is_none_and_set_is_list() -> None:
    assert Settings.load({}).core.plugins is None
    assert Settings.load({"LYNKR_PLUGINS": "anthropic, echo"}).core.plugins == ["anthropic", "echo"]
    assert Settings.load({"LYNKR_DISABLE_PLUGINS": "x"}).core.disable_plugins == ["x"]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_boolean_values(value: str, expected: bool) -> None:
    settings = Settings.load({"LYNKR_STRICT_PLUGINS": value, "LYNKR_TRACE_PLUGINS": value})
    assert settings.core.strict_plugins is expected
    assert settings.core.trace_plugins is expected


def test_bad_boolean_raises() -> None:
    with pytest.raises(ConfigError, match="LYNKR_STRICT_PLUGINS"):
        Settings.load({"LYNKR_STRICT_PLUGINS": "maybe"})


def test_bad_port_names_port() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.load({"PORT": "abc"})
    assert "PORT" in str(info.value)
    assert isinstance(info.value.__cause__, msgspec.ValidationError)


def test_bad_value_in_dotenv_names_the_variable(tmp_path: Path) -> None:
    env_file = write(tmp_path / "x.env", "LYNKR_MAX_BODY_BYTES=lots\n")
    with pytest.raises(ConfigError, match="LYNKR_MAX_BODY_BYTES"):
        Settings.load({}, env_file=env_file)


def test_bad_value_in_lynkr_table_names_the_setting(tmp_path: Path) -> None:
    toml_file = write(tmp_path / "x.toml", '[lynkr]\nport = "abc"\n')
    with pytest.raises(ConfigError, match="port"):
        Settings.load({}, toml_file=toml_file)


def test_toml_env_table_values_are_stringified(tmp_path: Path) -> None:
    toml_file = write(
        tmp_path / "x.toml",
        '[env]\nPORT = 9002\nLYNKR_STRICT_PLUGINS = true\nLYNKR_API_KEYS = ["k1", "k2"]\n',
    )
    settings = Settings.load({}, toml_file=toml_file)
    assert settings.core.port == 9002
    assert settings.core.strict_plugins is True
    assert settings.core.api_keys == ["k1", "k2"]
    assert settings.get("PORT") == "9002"
    assert settings.get("LYNKR_STRICT_PLUGINS") == "true"


def test_lynkr_table_native_types(tmp_path: Path) -> None:
    toml_file = write(
        tmp_path / "x.toml",
        '[lynkr]\nport = 7000\nstrict_plugins = true\napi_keys = ["a"]\nplugins = ["p"]\n',
    )
    core = Settings.load({}, toml_file=toml_file).core
    assert (core.port, core.strict_plugins, core.api_keys, core.plugins) == (
        7000,
        True,
        ["a"],
        ["p"],
    )


def test_env_beats_lynkr_table_list(tmp_path: Path) -> None:
    toml_file = write(tmp_path / "x.toml", '[lynkr]\napi_keys = ["from-toml"]\n')
    settings = Settings.load({"LYNKR_API_KEYS": "e1,e2"}, toml_file=toml_file)
    assert settings.core.api_keys == ["e1", "e2"]


@pytest.mark.parametrize("kind", ["env_file", "toml_file"])
def test_explicit_missing_file_raises(tmp_path: Path, kind: str) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="nope"):
        Settings.load({}, **{kind: missing})


@pytest.mark.parametrize("var", ["LYNKR_ENV_FILE", "LYNKR_CONFIG"])
def test_missing_file_named_by_environment_raises(tmp_path: Path, var: str) -> None:
    with pytest.raises(ConfigError, match="nope"):
        Settings.load({var: str(tmp_path / "nope")})


def test_files_named_by_environment(files: tuple[Path, Path]) -> None:
    env_file, toml_file = files
    settings = Settings.load({"LYNKR_ENV_FILE": str(env_file), "LYNKR_CONFIG": str(toml_file)})
    assert settings.core.model_provider == "from-dotenv"
    assert settings.core.log_format == "from-toml-env"


def test_explicit_argument_beats_environment_variable(tmp_path: Path) -> None:
    chosen = write(tmp_path / "chosen.env", "LOG_LEVEL=chosen\n")
    other = write(tmp_path / "other.env", "LOG_LEVEL=other\n")
    settings = Settings.load({"LYNKR_ENV_FILE": str(other)}, env_file=chosen)
    assert settings.core.log_level == "chosen"


def test_invalid_toml_raises_config_error(tmp_path: Path) -> None:
    toml_file = write(tmp_path / "bad.toml", "[lynkr\nport = \n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        Settings.load({}, toml_file=toml_file)


def test_empty_cwd_reads_no_files(empty_cwd: Path) -> None:
    assert list(empty_cwd.iterdir()) == []
    settings = Settings.load({})
    assert settings.sources == ("environment",)
    assert settings.core == CoreSettings()


def test_files_in_cwd_are_found_by_default(empty_cwd: Path) -> None:
    """The counterpart of the test above: the cwd lookup does work when the files exist."""
    write(empty_cwd / ".env", "LOG_LEVEL=cwd-dotenv\n")
    write(empty_cwd / "lynkr.toml", "[lynkr]\nport = 8123\n")
    settings = Settings.load({})
    assert settings.core.log_level == "cwd-dotenv"
    assert settings.core.port == 8123
    assert settings.sources == ("lynkr.toml", ".env", "environment")


def test_explicit_environ_ignores_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "1234")
    assert Settings.load({}).core.port == 8080
    assert Settings.load().core.port == 1234


def test_dotenv_parsing(tmp_path: Path) -> None:
    env_file = write(
        tmp_path / "q.env",
        "# comment\nexport LOG_LEVEL=\"debug\"\nLYNKR_HOST='0.0.0.0'\nMODEL_PROVIDER=x # trailing\n",
    )
    core = Settings.load({}, env_file=env_file).core
    assert (core.log_level, core.host, core.model_provider) == ("debug", "0.0.0.0", "x")


# --------------------------------------------------------------------------- #
# Plugin settings


class EchoConfig(msgspec.Struct, kw_only=True):
    greeting: str = "hello"
    repeat: int = 1
    loud: bool = False
    targets: list[str] = []
    ratio: float = 0.5


ECHO_ENV = {
    "greeting": "ECHO_GREETING",
    "repeat": "ECHO_REPEAT",
    "loud": "ECHO_LOUD",
    "targets": "ECHO_TARGETS",
}


@pytest.fixture
def plugin_toml(tmp_path: Path) -> Path:
    return write(
        tmp_path / "p.toml",
        """
[plugins.echo]
greeting = "from-toml"
repeat = 3
targets = ["t1"]
ratio = 0.25

[plugins.other]
greeting = "other"
""",
    )


def test_plugin_config_from_table(plugin_toml: Path) -> None:
    settings = Settings.load({}, toml_file=plugin_toml)
    config = settings.plugin_config("echo", EchoConfig, ECHO_ENV)
    assert config == EchoConfig(greeting="from-toml", repeat=3, targets=["t1"], ratio=0.25)
    assert settings.plugin_table("echo")["repeat"] == 3
    assert settings.plugin_table("missing") == {}


def test_plugin_config_env_wins(plugin_toml: Path, tmp_path: Path) -> None:
    env_file = write(tmp_path / "p.env", "ECHO_LOUD=yes\n")
    settings = Settings.load(
        {"ECHO_REPEAT": "7", "ECHO_TARGETS": "a, b"}, env_file=env_file, toml_file=plugin_toml
    )
    config = settings.plugin_config("echo", EchoConfig, ECHO_ENV)
    assert config == EchoConfig(
        greeting="from-toml", repeat=7, loud=True, targets=["a", "b"], ratio=0.25
    )


def test_plugin_config_defaults_without_table() -> None:
    assert Settings.load({}).plugin_config("echo", EchoConfig, ECHO_ENV) == EchoConfig()


def test_plugin_config_unmapped_env_var_is_ignored(plugin_toml: Path) -> None:
    settings = Settings.load({"ECHO_RATIO": "0.9"}, toml_file=plugin_toml)
    assert settings.plugin_config("echo", EchoConfig, ECHO_ENV).ratio == 0.25


def test_plugin_config_bad_value_names_variable(plugin_toml: Path) -> None:
    settings = Settings.load({"ECHO_REPEAT": "many"}, toml_file=plugin_toml)
    with pytest.raises(ConfigError) as info:
        settings.plugin_config("echo", EchoConfig, ECHO_ENV)
    message = str(info.value)
    assert "ECHO_REPEAT" in message
    assert message.startswith("echo:")


def test_plugin_config_bad_table_value(tmp_path: Path) -> None:
    toml_file = write(tmp_path / "p.toml", '[plugins.echo]\nrepeat = "x"\n')
    settings = Settings.load({}, toml_file=toml_file)
    with pytest.raises(ConfigError, match="repeat"):
        settings.plugin_config("echo", EchoConfig, ECHO_ENV)


def test_settings_constructor_directly() -> None:
    settings = Settings({"PORT": "1"}, {"plugins": {"echo": {"repeat": 2}}})
    assert settings.core.port == 1
    assert settings.plugin_config("echo", EchoConfig, {}).repeat == 2


# --------------------------------------------------------------------------- #
# masked()


def test_masked_hides_secrets_and_keeps_the_rest() -> None:
    settings = Settings.load(
        {
            "ANTHROPIC_API_KEY": "sk-ant-abcdefghijkl1234",
            "DATABRICKS_TOKEN": "dapi0123456789wxyz",
            "OPENAI_CLIENT_SECRET": "s3cr3t-value-9876",
            "LYNKR_API_KEYS": "key-one,key-two",
            "AZURE_OPENAI_PASSWORD": "short",
            "MODEL_PROVIDER": "anthropic",
            "PORT": "9000",
            "LYNKR_HOST": "0.0.0.0",
            "HOME": "/root",
            "PATH": "/usr/bin",
        }
    )
    masked = settings.masked()
    assert masked["ANTHROPIC_API_KEY"] == "****1234"
    assert masked["DATABRICKS_TOKEN"] == "****wxyz"
    assert masked["OPENAI_CLIENT_SECRET"] == "****9876"
    assert masked["LYNKR_API_KEYS"] == "****-two"
    assert masked["AZURE_OPENAI_PASSWORD"] == "****"
    assert masked["MODEL_PROVIDER"] == "anthropic"
    assert masked["PORT"] == "9000"
    assert masked["LYNKR_HOST"] == "0.0.0.0"
    assert "HOME" not in masked and "PATH" not in masked
    for name, value in masked.items():
        assert "abcdefghijkl" not in value and "dapi0123" not in value, name
    assert list(masked) == sorted(masked)


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("MY_KEY", "123456789", "****6789"),
        ("MY_KEY", "12345678", "****"),
        ("my_token", "abcdefghij", "****ghij"),
        ("Secret_Thing", "abcdefghij", "****ghij"),
        ("MY_KEY", "", ""),
        ("MODEL_NAME", "abcdefghij", "abcdefghij"),
    ],
)
def test_mask(name: str, value: str, expected: str) -> None:
    assert mask(name, value) == expected


def test_core_env_names_every_core_field() -> None:
    assert set(CORE_ENV) == set(CoreSettings.__struct_fields__)


class OptionalFlags(msgspec.Struct, kw_only=True):
    verbose: bool | None = None


# Regression test (found as a bug): BUG (minor): config._coerce maps yes/no/on/off only for fields annotated exactly `bool`; a plugin field `bool | None` set to 'yes' raises ConfigError
def test_optional_bool_accepts_the_same_words_as_bool() -> None:
    settings = Settings({"P_VERBOSE": "yes"})
    assert settings.plugin_config("p", OptionalFlags, {"verbose": "P_VERBOSE"}).verbose is True


def test_optional_bool_accepts_true_and_unset() -> None:
    env = {"verbose": "P_VERBOSE"}
    assert Settings({"P_VERBOSE": "true"}).plugin_config("p", OptionalFlags, env).verbose is True
    assert Settings({"P_VERBOSE": "0"}).plugin_config("p", OptionalFlags, env).verbose is False
    assert Settings({}).plugin_config("p", OptionalFlags, env).verbose is None
