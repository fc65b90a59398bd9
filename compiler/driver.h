/* driver.h: dendc's command line and the pipeline (driver.c). */
#ifndef DENDC_DRIVER_H
#define DENDC_DRIVER_H

int driver_main(int argc, char **argv);

#endif
