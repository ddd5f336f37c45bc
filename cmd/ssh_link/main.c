/* main.c — the flame-ssh-link program (see lib/ssh_link.h). */
#include "ssh_link.h"

int main(int argc, char **argv)
{
	return ssh_link_main(argc, argv);
}
