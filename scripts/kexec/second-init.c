// SPDX-License-Identifier: GPL-2.0
/*
 * The init of the kernel that scripts/kexec-check starts with kexec: it
 * says on the console that this kernel came up, and powers off.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
	struct utsname u;
	int fd;

	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_WRONLY);
	if (fd >= 0 && !uname(&u))
		dprintf(fd, "@@BOOTPOOL-KEXEC-SECOND-KERNEL %s@@\n", u.release);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}
