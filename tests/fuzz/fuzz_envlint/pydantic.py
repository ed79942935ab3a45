from os import environ
class S(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="A_")
    x: int = Field(alias="Y")
    z: str
v = environ.get(k)
const { A, B: b } = process.env
