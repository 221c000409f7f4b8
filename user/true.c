/* true: exits with status 0 (for shell scripts: `while true`, `a && true`). */
int main(void)
{
	return 0;
}
