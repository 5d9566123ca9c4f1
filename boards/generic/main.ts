// Entry of the generic bundle: build the board from its data, start the card.
import { boot } from "../../firmware/boot";
import { makeSinkBoard } from "../common/sink-board";
import { GENERIC } from "./board";

boot(makeSinkBoard(GENERIC));
