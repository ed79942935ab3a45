class S(BaseSettings):
										 x: int
