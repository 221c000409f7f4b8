/* false: exits with status 1 (for shell scripts and testing $?). */
int main(void)
{
	return 1;
}
