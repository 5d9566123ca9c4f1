// Entry of the pico-wm8731 bundle: build the board, start the DPCM runtime.
import { createPicoBoard } from "./board";
import { boot } from "../../firmware/boot";

boot(createPicoBoard());
