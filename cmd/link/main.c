/* main.c — the flame-link program (see lib/link/link.h). */
#include "link/link.h"

int main(int argc, char **argv)
{
	return link_main(argc, argv);
}
