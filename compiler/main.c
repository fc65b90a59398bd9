/* main.c: the dendc executable; everything lives in driver.c so that tests
 * can link the whole compiler as a library. */
#include "driver.h"

int main(int argc, char **argv) { return driver_main(argc, argv); }
