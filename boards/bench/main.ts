// Entry of the bench bundle: build the board from its data, start the card.
import { boot } from "../../firmware/boot";
import { makeSinkBoard } from "../common/sink-board";
import { BENCH } from "./board";

boot(makeSinkBoard(BENCH));
